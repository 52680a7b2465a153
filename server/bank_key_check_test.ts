import { BankKeyError } from "./bank_key_check.ts";
import { withBankFiles } from "./commands/open_bank_files.ts";
import { dataDirPaths } from "./data_dir.ts";

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function expectBankKeyError(work: Promise<unknown>, code: string): Promise<BankKeyError> {
  try {
    await work;
  } catch (error) {
    assert(error instanceof BankKeyError, `expected BankKeyError, got ${String(error)}`);
    assert(error.code === code, `expected ${code}, got ${error.code}`);
    return error;
  }
  throw new Error(`expected BankKeyError ${code}, but the work ran`);
}

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bank_key_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("withBankFiles() refuses a bank key that is not the ledger's and keeps both", async () => {
  await withTempDir(async (dir) => {
    await withBankFiles(dir, ({ store }) => store.listCustomers());
    const keyPath = dataDirPaths(dir).bankSecret;
    const other = crypto.getRandomValues(new Uint8Array(32));
    await Deno.writeFile(keyPath, other, { mode: 0o600 });
    let ran = false;
    const error = await expectBankKeyError(
      withBankFiles(dir, () => Promise.resolve(ran = true)),
      "bank_key_mismatch",
    );
    assert(!ran, "the command ran with the wrong key");
    assert(error.message.includes(keyPath), `message names the key file: ${error.message}`);
    const kept = await Deno.readFile(keyPath);
    assert(kept.every((byte, i) => byte === other[i]), "the operator's key file was changed");
  });
});

Deno.test("withBankFiles() removes a bank key it just made for a ledger that has one", async () => {
  await withTempDir(async (dir) => {
    await withBankFiles(dir, ({ store }) => store.listCustomers());
    const keyPath = dataDirPaths(dir).bankSecret;
    await Deno.remove(keyPath);
    const error = await expectBankKeyError(
      withBankFiles(dir, () => Promise.resolve()),
      "bank_key_missing",
    );
    assert(
      error.message.includes("copy keys/bank.key"),
      `message says what to do: ${error.message}`,
    );
    const left = await Deno.lstat(keyPath).then(() => true, () => false);
    assert(!left, "a fresh, useless bank key was left behind");
  });
});

Deno.test("withBankFiles() accepts the same bank key again", async () => {
  await withTempDir(async (dir) => {
    await withBankFiles(dir, ({ store }) => store.listCustomers());
    const customers = await withBankFiles(dir, ({ store }) => store.listCustomers());
    assert(customers.length === 0, "a second open works");
  });
});
