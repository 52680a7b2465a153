/**
 * Runs the shared store suite against a real PostgreSQL on 127.0.0.1:5432. Every test gets its
 * own database `bank_test_<random>`, dropped afterwards; no other database is touched. The suite
 * drops its databases without FORCE, so a store that leaves a connection open after close()
 * fails its test. Without a reachable server the tests are skipped (reported as ignored) with a
 * printed notice, unless CI is set: then they fail.
 */

import postgres from "postgres";
import { migratePostgres, openPostgresStore } from "./postgres_store.ts";
import { SCHEMA_VERSION } from "./rules.ts";
import { registerStoreSuite, type StoreFixture } from "./store_suite.ts";
import {
  addTestCustomer,
  assert,
  assertEquals,
  assertLedgerError,
  cashOp,
} from "./store_suite_helpers.ts";
import {
  createTestDatabase,
  probePostgres,
  reportMissingPostgres,
  type TestDatabase,
} from "../testing/postgres_db.ts";

const probe = await probePostgres();
const adminUrl = probe.adminUrl;
reportMissingPostgres(probe, "postgres_store_test");

async function rawExec(url: string, text: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(text);
  } finally {
    await sql.end();
  }
}

async function openFresh(): Promise<StoreFixture> {
  const { url, drop, dropStrict } = await createTestDatabase(adminUrl!);
  // A strict drop fails the test when a store left a connection open after close().
  const cleanup = async () => {
    try {
      await dropStrict();
    } catch (error) {
      await drop();
      throw error;
    }
  };
  try {
    await migratePostgres(url);
    const store = await openPostgresStore(url);
    return {
      store,
      rawExec: (text) => rawExec(url, text),
      openPeer: () => openPostgresStore(url),
      cleanup,
    };
  } catch (error) {
    await drop();
    throw error;
  }
}

registerStoreSuite({ label: "PostgresStore", open: openFresh, ignore: !adminUrl });

async function withDatabase(body: (database: TestDatabase) => Promise<void>): Promise<void> {
  const database = await createTestDatabase(adminUrl!);
  try {
    await body(database);
  } finally {
    await database.drop();
  }
}

/** Batches still running when close() is called in the test below. */
const BATCHES_IN_FLIGHT = 30;

Deno.test({
  name: "close() waits for batches in flight and leaves no connection open",
  ignore: !adminUrl,
  fn: () =>
    withDatabase(async ({ url, dropStrict }) => {
      await migratePostgres(url);
      const store = await openPostgresStore(url);
      const alice = await addTestCustomer(store, "alice", 0);
      let settled = 0;
      const batches = Array.from({ length: BATCHES_IN_FLIGHT }, () => {
        const batch = store.applyBatch([cashOp("deposit", { customerId: alice, amountCents: 10 })]);
        batch.then(() => settled++, () => settled++);
        return batch;
      });
      await store.close();
      assertEquals(settled, BATCHES_IN_FLIGHT, "batches settled when close() resolved");
      const results = (await Promise.all(batches)).flat();
      assert(results.every((result) => result.ok), `a batch failed: ${JSON.stringify(results)}`);
      await assertLedgerError(
        store.applyBatch([cashOp("deposit", { customerId: alice, amountCents: 10 })]),
        "closed",
      );
      const reopened = await openPostgresStore(url);
      try {
        assertEquals(await reopened.balance(alice), BATCHES_IN_FLIGHT * 10, "balance");
      } finally {
        await reopened.close();
      }
      // Refused while any connection of the closed stores is still open.
      await dropStrict();
    }),
});

Deno.test({
  name: "migratePostgres() creates the schema once and is idempotent",
  ignore: !adminUrl,
  fn: () =>
    withDatabase(async ({ url }) => {
      const runs = await Promise.all([migratePostgres(url), migratePostgres(url)]);
      assertEquals(runs.map((run) => run.created).sort(), [false, true], "created exactly once");
      assertEquals((await migratePostgres(url)).version, SCHEMA_VERSION, "version");
      const store = await openPostgresStore(url);
      await store.close();
    }),
});

/** Turns a current ledger back into schema version 1, as an older bank left it. */
const DOWNGRADE_TO_V1 = `ALTER TABLE entries DROP COLUMN server_id; DROP TABLE bank_key;
  UPDATE schema_version SET version = 1;`;

Deno.test({
  name: "openPostgresStore() refuses a version 1 ledger until migratePostgres() upgrades it",
  ignore: !adminUrl,
  fn: () =>
    withDatabase(async ({ url }) => {
      await migratePostgres(url);
      const old = await openPostgresStore(url);
      const alice = await addTestCustomer(old, "alice", 1_000);
      await old.applyBatch([cashOp("withdraw", { customerId: alice, amountCents: 100 })]);
      await old.close();
      await rawExec(url, DOWNGRADE_TO_V1);
      await assertLedgerError(openPostgresStore(url), "schema_outdated");
      const migration = await migratePostgres(url);
      assertEquals(
        [migration.fromVersion, migration.version, migration.created],
        [1, SCHEMA_VERSION, false],
        "migration",
      );
      const store = await openPostgresStore(url);
      try {
        assertEquals(await store.balance(alice), 900, "balance kept");
        const entries = await store.journalAfter(0, 10);
        assertEquals(entries.map((entry) => entry.serverId), [null, null], "old entries");
        assert((await store.checkInvariants()).ok, "invariants after the upgrade");
      } finally {
        await store.close();
      }
    }),
});

Deno.test({
  name: "openPostgresStore() refuses a database without a ledger schema",
  ignore: !adminUrl,
  fn: () => withDatabase(({ url }) => assertLedgerError(openPostgresStore(url), "schema_missing")),
});

Deno.test({
  name: "openPostgresStore() and migratePostgres() refuse an unknown schema version",
  ignore: !adminUrl,
  fn: () =>
    withDatabase(async ({ url }) => {
      await migratePostgres(url);
      await rawExec(url, "UPDATE schema_version SET version = 99");
      await assertLedgerError(openPostgresStore(url), "schema_unknown");
      await assertLedgerError(migratePostgres(url), "schema_unknown");
    }),
});

Deno.test({
  name: "migratePostgres() refuses a database that holds other tables",
  ignore: !adminUrl,
  fn: () =>
    withDatabase(async ({ url }) => {
      await rawExec(url, "CREATE TABLE photos (id integer PRIMARY KEY)");
      await assertLedgerError(migratePostgres(url), "corrupt");
      await assertLedgerError(openPostgresStore(url), "corrupt");
    }),
});

Deno.test({
  name: "openPostgresStore() reports an unreachable server without the password",
  fn: async () => {
    const url = "postgres://bank:s3cret-pw@127.0.0.1:1/bank";
    try {
      await openPostgresStore(url);
      throw new Error("opened a store on port 1");
    } catch (error) {
      const message = (error as Error).message;
      assert(!message.includes("s3cret-pw"), `password in message: ${message}`);
      assert(message.includes("127.0.0.1:1"), `server missing from message: ${message}`);
      assertEquals((error as { code?: string }).code, "unavailable", "code");
    }
  },
});
