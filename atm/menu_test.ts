import { Readable } from "node:stream";
import { assert, assertEquals, assertIncludes } from "./_test_assert.ts";
import { startTestBank, TEST_ATM_ID } from "./_test_bank.ts";
import { BankClient } from "./bank_client.ts";
import { EXIT_OK, EXIT_REFUSED, EXIT_UNREACHABLE, LOGIN_ATTEMPTS_MAX } from "./constants.ts";
import { linePrompter, openLineSource } from "./line_prompter.ts";
import { runMenu } from "./menu.ts";

const PSK = crypto.getRandomValues(new Uint8Array(32));

async function runMenuWith(input: string[], servers?: string[]) {
  const bank = startTestBank({ psk: PSK });
  const written: string[] = [];
  try {
    const client = new BankClient({
      atmId: TEST_ATM_ID,
      psk: PSK,
      servers: servers ?? [bank.address],
      retry: { attemptsMax: 2, backoffMsInitial: 1, backoffMsMax: 1 },
    });
    const prompter = linePrompter({
      source: openLineSource(Readable.from([input.map((line) => `${line}\n`).join("")])),
      write: (line) => written.push(line),
    });
    const status = await runMenu({ client, prompter });
    return { status, screen: written.join("\n"), bank };
  } finally {
    await bank.close();
  }
}

Deno.test("runMenu() carries out each menu entry and returns to the menu", async () => {
  const { status, screen, bank } = await runMenuWith([
    "alice",
    "1111",
    "2", // Deposit
    "25.5",
    "3", // Withdraw
    "10",
    "4", // Transfer
    "bob",
    "5",
    "1", // Balance
    "5", // Mini-statement
    "6", // Quit
  ]);
  assertEquals(status, EXIT_OK);
  assertIncludes(screen, "Welcome, alice.");
  assertIncludes(screen, "Deposited 25.50. Balance: 1025.50");
  assertIncludes(screen, "Withdrew 10.00.");
  assertIncludes(screen, "Transferred 5.00 to bob. Balance: 1010.50");
  assertIncludes(screen, "Mini-statement");
  assertIncludes(screen, "Goodbye");
  assertEquals(bank.balanceOf("alice"), 101_050);
  assertEquals(bank.balanceOf("bob"), 50_500);
  assert(!screen.includes("1111"), "the PIN never reaches the screen");
});

Deno.test("runMenu() explains bad amounts and refusals in plain words and keeps going", async () => {
  const { status, screen, bank } = await runMenuWith([
    "bob",
    "2222",
    "withdraw",
    "1e3",
    "5000",
    "transfer",
    "nobody",
    "1",
    "balance",
    "quit",
  ]);
  assertEquals(status, EXIT_OK);
  assertIncludes(screen, "Error: Amount is not a plain decimal");
  assertIncludes(screen, "Error: Insufficient funds.");
  assertIncludes(screen, "Error: No such customer.");
  assertIncludes(screen, "Balance: 500.00");
  assertEquals(bank.balanceOf("bob"), 50_000);
});

Deno.test("runMenu() ends the session after too many failed logins", async () => {
  const input = Array.from({ length: LOGIN_ATTEMPTS_MAX }, () => ["alice", "0000"]).flat();
  const { status, screen, bank } = await runMenuWith(input);
  assertEquals(status, EXIT_REFUSED);
  assertIncludes(screen, "Too many failed logins");
  assertEquals(bank.seen.length, LOGIN_ATTEMPTS_MAX);
});

Deno.test("runMenu() says when the bank cannot be reached", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  const { status, screen } = await runMenuWith(["alice", "1111"], [`127.0.0.1:${port}`]);
  assertEquals(status, EXIT_UNREACHABLE);
  assertIncludes(screen, "Cannot reach the bank");
});

Deno.test("runMenu() quits cleanly when input ends at the menu", async () => {
  const { status, screen } = await runMenuWith(["alice", "1111", "1"]);
  assertEquals(status, EXIT_OK);
  assertIncludes(screen, "Balance: 1000.00");
  assertIncludes(screen, "Goodbye");
});
