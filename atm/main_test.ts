import { assertEquals, assertIncludes } from "./_test_assert.ts";
import { writeCredential } from "../lib/mod.ts";
import { startTestBank, TEST_ATM_ID } from "./_test_bank.ts";
import { type CommandResult, runCommand } from "../server/testing/bank_process.ts";
import {
  ATM_VERSION,
  EXIT_CREDENTIAL,
  EXIT_OK,
  EXIT_REFUSED,
  EXIT_UNREACHABLE,
  EXIT_USAGE,
} from "./constants.ts";

/** Runs the real `atm` command with the `atm` permission set, stdin piped from `input`. */
function runAtm(args: string[], input = ""): Promise<CommandResult> {
  return runCommand("atm", args, input);
}

function assertOneLineError(run: CommandResult, status: number, words: string): void {
  assertEquals(run.code, status, run.stderr);
  const lines = run.stderr.trimEnd().split("\n");
  assertEquals(lines.length, 1, run.stderr);
  assertIncludes(lines[0], words);
}

Deno.test("atm with a bad flag prints one line and exits with the usage status", async () => {
  const run = await runAtm(["--credential", "x.json", "--frobnicate"]);
  assertOneLineError(run, EXIT_USAGE, "atm: unknown option '--frobnicate'");
  assertEquals(run.stdout, "");
});

Deno.test("atm with an unknown command prints one line and exits with the usage status", async () => {
  const run = await runAtm(["--credential", "x.json", "--user", "alice", "steal"]);
  assertOneLineError(run, EXIT_USAGE, "unknown command 'steal'");
});

Deno.test("atm --help lists every command and the exit statuses", async () => {
  const run = await runAtm(["--help"]);
  assertEquals(run.code, EXIT_OK);
  for (
    const word of [
      "balance",
      "deposit <amount>",
      "withdraw <amount>",
      "transfer <to> <amount>",
      "history",
      "--pin-stdin",
      "--json",
      "Exit status",
    ]
  ) {
    assertIncludes(run.stdout, word);
  }
});

Deno.test("atm --version prints the version", async () => {
  const run = await runAtm(["--version"]);
  assertEquals(run.code, EXIT_OK);
  assertEquals(run.stdout.trim(), ATM_VERSION);
});

Deno.test("atm refuses a bad amount locally, before reading the credential", async () => {
  const missing = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.remove(missing);
  const cases: [string[], string][] = [
    [["deposit", "12.345"], "more than two decimals"],
    [["withdraw", "-5"], "must be positive"],
    [["transfer", "bob", "1,000"], "not a plain decimal"],
  ];
  for (const [command, words] of cases) {
    const run = await runAtm([
      "--credential",
      missing,
      "--user",
      "alice",
      "--pin-stdin",
      ...command,
    ], "1111\n");
    assertOneLineError(run, EXIT_USAGE, words);
    assertEquals(run.stderr.includes("1111"), false);
  }
});

Deno.test("atm with a missing credential file says so and exits with the credential status", async () => {
  const missing = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.remove(missing);
  for (const json of [false, true]) {
    const args = ["--credential", missing, "--user", "alice", "--pin-stdin", "balance"];
    const run = await runAtm(json ? [...args, "--json"] : args, "1111\n");
    assertOneLineError(run, EXIT_CREDENTIAL, missing);
    if (json) {
      const result = JSON.parse(run.stdout);
      assertEquals(result.ok, false);
    }
  }
});

const PSK = crypto.getRandomValues(new Uint8Array(32));

/** Writes an owner-only credential file for the test bank's ATM; removed on dispose. */
async function credentialFor(servers: string[]): Promise<{ path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/atm.json`;
  await writeCredential(path, { atmId: TEST_ATM_ID, psk: PSK, servers });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

function refusingAddress(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return `127.0.0.1:${port}`;
}

Deno.test("atm --pin-stdin --json deposit prints one JSON object and changes the balance", async () => {
  const bank = startTestBank({ psk: PSK });
  try {
    await using credential = await credentialFor([bank.address]);
    const args = ["--user", "alice", "--credential", credential.path, "--pin-stdin", "--json"];
    const run = await runAtm([...args, "deposit", "5"], "1111\n");
    assertEquals(run.code, EXIT_OK, run.stderr);
    assertEquals(run.stdout.trimEnd().split("\n").length, 1);
    const result = JSON.parse(run.stdout);
    assertEquals([result.ok, result.op, result.balance], [true, "deposit", "1005.00"]);
    assertEquals(bank.balanceOf("alice"), 100_500);
    const refused = await runAtm([...args, "transfer", "nobody", "1"], "1111\n");
    assertOneLineError(refused, EXIT_REFUSED, "No such customer.");
    assertEquals(JSON.parse(refused.stdout).error, "unknown_recipient");
  } finally {
    await bank.close();
  }
});

Deno.test("atm --server overrides the credential's server list", async () => {
  const bank = startTestBank({ psk: PSK });
  try {
    await using credential = await credentialFor([refusingAddress()]);
    const args = ["--user", "bob", "--credential", credential.path, "--pin-stdin"];
    const run = await runAtm([...args, "--server", bank.address, "balance"], "2222\n");
    assertEquals(run.code, EXIT_OK, run.stderr);
    assertEquals(run.stdout, "Balance: 500.00\n");
  } finally {
    await bank.close();
  }
});

Deno.test("atm exits with the unreachable status when no server answers", async () => {
  await using credential = await credentialFor([refusingAddress()]);
  const args = ["--user", "bob", "--credential", credential.path, "--pin-stdin", "balance"];
  const run = await runAtm(args, "2222\n");
  assertOneLineError(run, EXIT_UNREACHABLE, "Cannot reach the bank");
});

Deno.test("atm without --pin-stdin on piped stdin refuses with the usage status", async () => {
  await using credential = await credentialFor([refusingAddress()]);
  const run = await runAtm(["--user", "bob", "--credential", credential.path, "balance"], "2222\n");
  assertOneLineError(run, EXIT_USAGE, "--pin-stdin");
});

Deno.test("atm menu on piped stdin reads one answer per line", async () => {
  const bank = startTestBank({ psk: PSK });
  try {
    await using credential = await credentialFor([bank.address]);
    const input = ["alice", "1111", "Withdraw", "40", "1", "6"].join("\n") + "\n";
    const run = await runAtm(["--credential", credential.path], input);
    assertEquals(run.code, EXIT_OK, run.stderr);
    assertIncludes(run.stdout, "Withdrew 40.00. Please take your cash. Balance: 960.00");
    assertIncludes(run.stdout, "Balance: 960.00");
    assertIncludes(run.stdout, "Goodbye");
    assertEquals(run.stdout.includes("1111"), false);
  } finally {
    await bank.close();
  }
});
