import { LedgerError } from "./store.ts";
import { lockServerId } from "./postgres_server_lock.ts";
import {
  createTestDatabase,
  probePostgres,
  reportMissingPostgres,
} from "../testing/postgres_db.ts";

const probe = await probePostgres();
reportMissingPostgres(probe, "postgres_server_lock_test");

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function expectTaken(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (error) {
    assert(error instanceof LedgerError, `expected LedgerError, got ${String(error)}`);
    assert(error.code === "server_id_taken", `expected server_id_taken, got ${error.code}`);
    return;
  }
  throw new Error("the server id was taken twice");
}

Deno.test({
  name: "lockServerId() lets one holder have an id until it releases it",
  ignore: !probe.adminUrl,
  fn: async () => {
    const database = await createTestDatabase(probe.adminUrl!);
    try {
      const first = await lockServerId(database.url, "bank-1");
      await expectTaken(lockServerId(database.url, "bank-1"));
      const other = await lockServerId(database.url, "bank-2");
      await first.release();
      const again = await lockServerId(database.url, "bank-1");
      await again.release();
      await other.release();
    } finally {
      await database.drop();
    }
  },
});

Deno.test("lockServerId() reports an unreachable server without the password", async () => {
  try {
    await lockServerId("postgres://bank:s3cret-pw@127.0.0.1:1/bank", "bank-1");
    throw new Error("locked on port 1");
  } catch (error) {
    assert(error instanceof LedgerError, `expected LedgerError, got ${String(error)}`);
    assert(error.code === "unavailable", `code ${error.code}`);
    assert(!error.message.includes("s3cret-pw"), `password in message: ${error.message}`);
  }
});
