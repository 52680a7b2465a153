import { assertEquals, assertIncludes } from "./_test_assert.ts";
import { type Invocation, parseInvocation } from "./cli.ts";
import { ATM_VERSION, EXIT_OK, EXIT_USAGE } from "./constants.ts";
import { ATM_WEB_PORT_DEFAULT } from "./web/constants.ts";

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
      webPort: ATM_WEB_PORT_DEFAULT,
    },
  });
});

Deno.test("parseInvocation() with --web asks for the ATM screen on the given port", () => {
  const { invocation } = parse(["--credential", "atm-1.json", "--web", "--web-port", "0"]);
  assertEquals(invocation.kind, "web");
  if (invocation.kind === "web") assertEquals(invocation.options.webPort, 0);
});

Deno.test("parseInvocation() refuses --web with a command, and --web-port without --web", () => {
  const cases: [string[], string][] = [
    [["--credential", "a.json", "--web", "balance"], "--web takes no command"],
    [["--credential", "a.json", "--web-port", "5000"], "--web-port needs --web"],
    [["--credential", "a.json", "--web", "--web-port", "70000"], "port from 0 to 65535"],
  ];
  for (const [args, message] of cases) {
    const { invocation, err } = parse(args);
    assertEquals(invocation, { kind: "exit", status: EXIT_USAGE });
    assertIncludes(err, message);
  }
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
