/**
 * Runs the shared store suite against a real PostgreSQL on 127.0.0.1:5432. Every test gets its
 * own database `bank_test_<random>`, dropped afterwards. Without a reachable server the tests are
 * skipped with a printed notice, unless CI is set: then they fail.
 */

import postgres from "postgres";
import { migratePostgres, openPostgresStore } from "./postgres_store.ts";
import { registerStoreSuite, type StoreFixture } from "./store_suite.ts";
import { assert, assertEquals, assertLedgerError } from "./store_suite_helpers.ts";

const ADMIN_USERS = ["postgres", "root"];
const ADMIN_DATABASE = "test";
const SERVER = "127.0.0.1:5432";

/** Finds a user that can create databases, or undefined when no server answers. */
async function probeAdminUrl(): Promise<string | undefined> {
  for (const user of ADMIN_USERS) {
    const url = `postgres://${user}@${SERVER}/${ADMIN_DATABASE}`;
    const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      const [row] = await sql`SELECT rolcreatedb OR rolsuper AS can FROM pg_roles
        WHERE rolname = current_user`;
      if (row?.can) return url;
    } catch {
      // try the next user
    } finally {
      await sql.end({ timeout: 0 });
    }
  }
  return undefined;
}

const adminUrl = await probeAdminUrl();
const ci = Deno.env.get("CI");

if (!adminUrl) {
  if (ci) {
    Deno.test("PostgreSQL is reachable (required because CI is set)", () => {
      throw new Error(`No PostgreSQL at ${SERVER} accepting users ${ADMIN_USERS.join(" or ")}`);
    });
  } else {
    console.log(
      `postgres_store_test: skipping, no PostgreSQL at ${SERVER} (users ${ADMIN_USERS}); ` +
        "set CI=1 to make this a failure",
    );
  }
}

/** Creates an empty database and returns its URL and a way to drop it. */
async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `bank_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(adminUrl!, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = adminUrl!.replace(new RegExp(`/${ADMIN_DATABASE}$`), `/${name}`);
  const drop = async () => {
    const again = postgres(adminUrl!, { max: 1, onnotice: () => {} });
    try {
      await again.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await again.end();
    }
  };
  return { url, drop };
}

async function rawExec(url: string, text: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(text);
  } finally {
    await sql.end();
  }
}

async function openFresh(): Promise<StoreFixture> {
  const { url, drop } = await createDatabase();
  try {
    await migratePostgres(url);
    const store = await openPostgresStore(url);
    return {
      store,
      rawExec: (text) => rawExec(url, text),
      openPeer: () => openPostgresStore(url),
      cleanup: drop,
    };
  } catch (error) {
    await drop();
    throw error;
  }
}

registerStoreSuite({ label: "PostgresStore", open: openFresh, ignore: !adminUrl });

async function withDatabase(body: (url: string) => Promise<void>): Promise<void> {
  const { url, drop } = await createDatabase();
  try {
    await body(url);
  } finally {
    await drop();
  }
}

Deno.test({
  name: "migratePostgres() creates the schema once and is idempotent",
  ignore: !adminUrl,
  fn: () =>
    withDatabase(async (url) => {
      const runs = await Promise.all([migratePostgres(url), migratePostgres(url)]);
      assertEquals(runs.map((run) => run.created).sort(), [false, true], "created exactly once");
      assertEquals((await migratePostgres(url)).version, 1, "version");
      const store = await openPostgresStore(url);
      await store.close();
    }),
});

Deno.test({
  name: "openPostgresStore() refuses a database without a ledger schema",
  ignore: !adminUrl,
  fn: () => withDatabase((url) => assertLedgerError(openPostgresStore(url), "schema_missing")),
});

Deno.test({
  name: "openPostgresStore() and migratePostgres() refuse an unknown schema version",
  ignore: !adminUrl,
  fn: () =>
    withDatabase(async (url) => {
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
    withDatabase(async (url) => {
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
