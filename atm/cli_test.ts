import { assertEquals, assertIncludes } from "./_test_assert.ts";
import { type Invocation, parseInvocation } from "./cli.ts";
import { ATM_VERSION, EXIT_OK, EXIT_USAGE } from "./constants.ts";

function parse(args: string[]): { invocation: Invocation; out: string; err: string } {
  let out = "";
  let err = "";
  const invocation = parseInvocation(args, {
    writeOut: (text) => out += text,
    writeErr: (text) => err += text,
  });
  return { invocation, out, err };
}

const BASE = ["--credential", "atm-1.json", "--user", "alice"];

Deno.test("parseInvocation() without a command asks for the menu", () => {
  const { invocation } = parse(["--credential", "atm-1.json"]);
  assertEquals(invocation, {
    kind: "menu",
    options: {
      user: undefined,
      credential: "atm-1.json",
      server: undefined,
      pinStdin: false,
      json: false,
    },
  });
});

Deno.test("parseInvocation() turns each command into a bank action with canonical amounts", () => {
  const cases: [string[], unknown][] = [
    [["balance"], { op: "balance" }],
    [["history"], { op: "history" }],
    [["deposit", "12.5"], { op: "deposit", amount: "12.50" }],
    [["withdraw", "20"], { op: "withdraw", amount: "20.00" }],
    [["transfer", "bob", "0.05"], { op: "transfer", to: "bob", amount: "0.05" }],
  ];
  for (const [command, action] of cases) {
    const { invocation } = parse([...BASE, "--json", "--pin-stdin", ...command]);
    assertEquals(invocation.kind, "script", command.join(" "));
    if (invocation.kind === "script") {
      assertEquals(invocation.action, action, command.join(" "));
      assertEquals(invocation.options.json && invocation.options.pinStdin, true);
    }
  }
});

Deno.test("parseInvocation() refuses bad input with one line on stderr and the usage status", () => {
  const cases: [string[], string][] = [
    [[...BASE, "--bogus"], "unknown option '--bogus'"],
    [[...BASE, "fly"], "unknown command 'fly'"],
    [[...BASE, "deposit"], "missing required argument 'amount'"],
    [[...BASE, "deposit", "1e3"], "not a plain decimal"],
    [[...BASE, "withdraw", "0"], "more than zero"],
    [[...BASE, "transfer", "bob", "1.005"], "more than two decimals"],
    [["--user", "alice", "balance"], "--credential <file> is required"],
    [["--credential", "c.json", "balance"], "--user is required"],
    [[...BASE, "--server", "nohost", "balance"], "host:port"],
  ];
  for (const [args, words] of cases) {
    const { invocation, err } = parse(args);
    assertEquals(invocation, { kind: "exit", status: EXIT_USAGE }, args.join(" "));
    assertIncludes(err, words);
    assertEquals(err.trimEnd().split("\n").length, 1, err);
    assertEquals(err.startsWith("atm: "), true, err);
  }
});

Deno.test("parseInvocation() prints help and version and exits 0", () => {
  const help = parse(["--help"]);
  assertEquals(help.invocation, { kind: "exit", status: EXIT_OK });
  for (const command of ["balance", "deposit", "withdraw", "transfer", "history", "Exit status"]) {
    assertIncludes(help.out, command);
  }
  const version = parse(["--version"]);
  assertEquals(version.invocation, { kind: "exit", status: EXIT_OK });
  assertEquals(version.out.trim(), ATM_VERSION);
});
