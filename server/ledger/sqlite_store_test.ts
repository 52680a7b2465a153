import { DatabaseSync } from "node:sqlite";
import { SCHEMA_VERSION } from "./rules.ts";
import { openSqliteStore } from "./sqlite_store.ts";
import { registerStoreSuite, type StoreFixture } from "./store_suite.ts";
import {
  addTestCustomer,
  assert,
  assertEquals,
  assertLedgerError,
  cashOp,
} from "./store_suite_helpers.ts";

async function openFresh(): Promise<StoreFixture> {
  const dir = await Deno.makeTempDir({ prefix: "ledger_test_" });
  const path = `${dir}/ledger.sqlite`;
  const store = await openSqliteStore(path);
  return {
    store,
    rawExec: (sql) => Promise.resolve(rawExec(path, sql)),
    openPeer: () => openSqliteStore(path),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

function rawExec(path: string, sql: string): void {
  const db = new DatabaseSync(path);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ledger_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

registerStoreSuite({ label: "SqliteStore", open: openFresh });

Deno.test("openSqliteStore() creates an owner-only file in WAL mode", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/ledger.sqlite`;
    const store = await openSqliteStore(path);
    await store.close();
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600, "file mode");
    const db = new DatabaseSync(path);
    const mode = db.prepare("PRAGMA journal_mode").get()?.journal_mode;
    const version = db.prepare("SELECT version FROM schema_version").get()?.version;
    db.close();
    assertEquals(mode, "wal", "journal mode");
    assertEquals(version, SCHEMA_VERSION, "schema version");
  });
});

Deno.test("openSqliteStore() keeps committed data across close and reopen", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/ledger.sqlite`;
    const first = await openSqliteStore(path);
    const alice = await addTestCustomer(first, "alice", 1_000);
    const op = cashOp("withdraw", { customerId: alice, amountCents: 400 });
    const [applied] = await first.applyBatch([op]);
    await first.close();
    const second = await openSqliteStore(path);
    try {
      assertEquals(await second.balance(alice), 600, "balance after reopen");
      const [retry] = await second.applyBatch([op]);
      assertEquals(retry, { ...applied, replayed: true }, "stored answer after reopen");
    } finally {
      await second.close();
    }
  });
});

/** Turns a current ledger back into schema version 1, as an older bank left it. */
const DOWNGRADE_TO_V1 = `ALTER TABLE entries DROP COLUMN server_id; DROP TABLE bank_key;
  UPDATE schema_version SET version = 1;`;

Deno.test("openSqliteStore() upgrades a version 1 ledger in place and keeps its data", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/ledger.sqlite`;
    const old = await openSqliteStore(path);
    const alice = await addTestCustomer(old, "alice", 1_000);
    await old.applyBatch([cashOp("withdraw", { customerId: alice, amountCents: 100 })]);
    await old.close();
    rawExec(path, DOWNGRADE_TO_V1);
    const store = await openSqliteStore(path);
    try {
      assertEquals(await store.balance(alice), 900, "balance kept");
      const entries = await store.journalAfter(0, 10);
      assertEquals(entries.map((entry) => entry.serverId), [null, null], "old entries: no server");
      assertEquals(await store.claimBankKeyCheck("check"), "check", "bank key table exists");
      assert((await store.checkInvariants()).ok, "invariants after the upgrade");
    } finally {
      await store.close();
    }
    const db = new DatabaseSync(path);
    const version = db.prepare("SELECT version FROM schema_version").get()?.version;
    db.close();
    assertEquals(version, SCHEMA_VERSION, "schema version after the upgrade");
  });
});

Deno.test("openSqliteStore() refuses an unknown schema version", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/ledger.sqlite`;
    await (await openSqliteStore(path)).close();
    rawExec(path, "UPDATE schema_version SET version = 99");
    await assertLedgerError(openSqliteStore(path), "schema_unknown");
    try {
      await openSqliteStore(path);
    } catch (error) {
      const message = (error as Error).message;
      assert(message.includes("99") && message.includes(path), `message: ${message}`);
    }
  });
});

Deno.test("openSqliteStore() refuses a file that is not a database", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/ledger.sqlite`;
    await Deno.writeFile(path, crypto.getRandomValues(new Uint8Array(8192)));
    await assertLedgerError(openSqliteStore(path), "corrupt");
    const text = `${dir}/notes.sqlite`;
    await Deno.writeTextFile(text, "These are not the ledgers you are looking for.\n".repeat(200));
    await assertLedgerError(openSqliteStore(text), "corrupt");
  });
});

Deno.test("openSqliteStore() refuses a SQLite database that is not a ledger", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/other.sqlite`;
    rawExec(path, "CREATE TABLE photos (id INTEGER PRIMARY KEY, caption TEXT)");
    await assertLedgerError(openSqliteStore(path), "corrupt");
  });
});
