import { DatabaseSync } from "node:sqlite";
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
    assertEquals(version, 1, "schema version");
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
