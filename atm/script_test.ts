import { assertEquals, assertIncludes } from "./_test_assert.ts";
import { startTestBank, TEST_ATM_ID } from "./_test_bank.ts";
import { type BankAction, BankClient } from "./bank_client.ts";
import { EXIT_OK, EXIT_REFUSED } from "./constants.ts";
import { runScript } from "./script.ts";

const PSK = crypto.getRandomValues(new Uint8Array(32));

async function script(action: BankAction, options: { pin?: string; json: boolean }) {
  const bank = startTestBank({ psk: PSK });
  const stdout: string[] = [];
  const stderr: string[] = [];
  try {
    const client = new BankClient({ atmId: TEST_ATM_ID, psk: PSK, servers: [bank.address] });
    const status = await runScript({
      client,
      user: "alice",
      pin: options.pin ?? "1111",
      action,
      json: options.json,
      stdout: (line) => stdout.push(line),
      stderr: (line) => stderr.push(line),
    });
    return { status, stdout, stderr };
  } finally {
    await bank.close();
  }
}

Deno.test("runScript() prints one JSON object for a completed action", async () => {
  const run = await script({ op: "deposit", amount: "12.00" }, { json: true });
  assertEquals(run.status, EXIT_OK);
  assertEquals(run.stdout.length, 1);
  assertEquals(run.stderr, []);
  const result = JSON.parse(run.stdout[0]);
  assertEquals(
    { ok: result.ok, op: result.op, customer: result.customer, balance: result.balance },
    { ok: true, op: "deposit", customer: "alice", balance: "1012.00" },
  );
  assertEquals(typeof result.id, "string");
});

Deno.test("runScript() prints a plain line without --json", async () => {
  const run = await script({ op: "balance" }, { json: false });
  assertEquals(run.status, EXIT_OK);
  assertEquals(run.stdout, ["Balance: 1000.00"]);
});

Deno.test("runScript() reports a refusal on one stderr line with the refusal status", async () => {
  const run = await script({ op: "withdraw", amount: "5000.00" }, { json: true });
  assertEquals(run.status, EXIT_REFUSED);
  assertEquals(run.stderr, ["atm: Insufficient funds."]);
  assertEquals(JSON.parse(run.stdout[0]), {
    ok: false,
    error: "insufficient_funds",
    message: "Insufficient funds.",
  });
});

Deno.test("runScript() reports a wrong PIN as a refused login, without the PIN", async () => {
  const run = await script({ op: "balance" }, { pin: "8642", json: false });
  assertEquals(run.status, EXIT_REFUSED);
  assertEquals(run.stdout, []);
  assertEquals(run.stderr.length, 1);
  assertIncludes(run.stderr[0], "Login failed");
  assertEquals(run.stderr[0].includes("8642"), false);
});
