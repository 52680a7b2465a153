import { assertEquals, assertIncludes } from "./_test_assert.ts";
import { ATM_VERSION, EXIT_CREDENTIAL, EXIT_OK, EXIT_USAGE } from "./constants.ts";

const REPO_ROOT = new URL("../", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `atm` command with the `atm` permission set, stdin piped from `input`. */
export async function runAtm(args: string[], input = ""): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-P=atm", "atm/main.ts", ...args],
    cwd: REPO_ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

function assertOneLineError(run: Run, status: number, words: string): void {
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
