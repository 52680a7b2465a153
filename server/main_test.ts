/**
 * The `bank` command line as an operator uses it: real processes with the `bank` permission set,
 * on fresh data directories.
 */

import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { runCommand } from "./testing/bank_process.ts";

const COMMANDS = [
  ["serve"],
  ["customer", "add"],
  ["customer", "list"],
  ["atm", "add"],
  ["atm", "revoke"],
  ["audit"],
  ["operator", "passwd"],
];

async function withDataDir(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bank-cli-" });
  try {
    await work(`${dir}/data`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function customerList(data: string): Promise<string> {
  const listed = await runCommand("bank", ["customer", "list", "--data", data]);
  equal(listed.code, 0, listed.stderr);
  return listed.stdout;
}

Deno.test("bank --help and every subcommand's --help print usage and exit 0", async () => {
  const top = await runCommand("bank", ["--help"]);
  equal(top.code, 0, top.stderr);
  for (const name of ["serve", "customer", "atm", "audit", "operator"]) {
    ok(top.stdout.includes(name), `bank --help does not list ${name}`);
  }
  for (const command of COMMANDS) {
    const help = await runCommand("bank", [...command, "--help"]);
    equal(help.code, 0, `${command.join(" ")}: ${help.stderr}`);
    ok(help.stdout.startsWith(`Usage: bank ${command.join(" ")}`), help.stdout);
    ok(help.stdout.includes("--data"), `${command.join(" ")} --help lacks --data`);
  }
});

Deno.test("bank refuses a bad flag or flag value with one line and a non-zero exit", async () => {
  const cases = [
    ["serve", "--port", "abc"],
    ["serve", "--port", "70000"],
    ["serve", "--connections-max", "0"],
    ["customer", "add", "dave", "--bogus"],
    ["frobnicate"],
  ];
  for (const args of cases) {
    const result = await runCommand("bank", args);
    ok(result.code !== 0, `${args.join(" ")} exited 0`);
    const lines = result.stderr.trim().split("\n");
    equal(lines.length, 1, `${args.join(" ")} printed:\n${result.stderr}`);
    ok(lines[0].length > 10, lines[0]);
  }
});

Deno.test("bank customer add initialises an empty directory and reads the PIN from stdin", async () => {
  await withDataDir(async (data) => {
    const added = await runCommand(
      "bank",
      ["customer", "add", "dave", "--deposit", "12.34", "--pin-stdin", "--data", data],
      "4321\n",
    );
    equal(added.code, 0, added.stderr);
    equal(added.stdout.trim(), "Added customer dave with balance 12.34.");
    ok(!added.stdout.includes("4321") && !added.stderr.includes("4321"), "PIN printed");
    equal((await Deno.stat(data)).mode! & 0o777, 0o700, "data directory is owner-only");
    ok(/^dave\s+12\.34$/m.test(await customerList(data)));
  });
});

Deno.test("bank customer add refuses bad amounts, bad PINs and taken names; nothing changes", async () => {
  await withDataDir(async (data) => {
    const add = (name: string, extra: string[], pin = "4321\n") =>
      runCommand("bank", ["customer", "add", name, ...extra, "--pin-stdin", "--data", data], pin);
    equal((await add("dave", ["--deposit", "10.00"])).code, 0);
    const before = await customerList(data);
    const refusals: [string, string[], string, RegExp][] = [
      ["erin", ["--deposit", "1e3"], "4321\n", /--deposit: .*"1e3"/],
      ["erin", ["--deposit", "NaN"], "4321\n", /--deposit: .*"NaN"/],
      ["erin", ["--deposit", "1.234"], "4321\n", /--deposit: .*"1\.234"/],
      ["erin", ["--deposit", "-5"], "4321\n", /--deposit: /],
      ["erin", ["--deposit", ""], "4321\n", /--deposit: /],
      ["erin", ["--deposit", "99999999999.00"], "4321\n", /--deposit: /],
      ["erin", [], "987\n", /PIN must be/],
      ["erin", [], "98ab\n", /PIN must be/],
      ["dave", [], "4321\n", /already exists/],
      ["bad name!", [], "4321\n", /name/i],
    ];
    for (const [name, extra, pin, message] of refusals) {
      const result = await add(name, extra, pin);
      ok(result.code !== 0, `${name} ${extra.join(" ")} was accepted`);
      ok(message.test(result.stderr), `${name} ${extra.join(" ")}: ${result.stderr}`);
      ok(!result.stderr.includes(pin.trim()), `the PIN reached stderr: ${result.stderr}`);
    }
    equal(await customerList(data), before, "a refused command changed the customer list");
  });
});

Deno.test("bank atm add writes an owner-only credential, never prints the key, refuses a duplicate", async () => {
  await withDataDir(async (data) => {
    const out = `${data}-atm-7.json`;
    const added = await runCommand("bank", ["atm", "add", "atm-7", "--out", out, "--data", data]);
    equal(added.code, 0, added.stderr);
    equal((await Deno.stat(out)).mode! & 0o777, 0o600);
    const file = JSON.parse(await Deno.readTextFile(out));
    deepStrictEqual(Object.keys(file).sort(), ["atmId", "format", "psk", "servers"]);
    equal(file.atmId, "atm-7");
    ok(!added.stdout.includes(file.psk) && !added.stderr.includes(file.psk), "key printed");

    const again = await runCommand("bank", ["atm", "add", "atm-7", "--out", out, "--data", data]);
    ok(again.code !== 0);
    ok(/already exists/.test(again.stderr), again.stderr);
    equal(JSON.parse(await Deno.readTextFile(out)).psk, file.psk, "the credential was replaced");

    const bad = await runCommand("bank", ["atm", "add", "bad id!", "--data", data]);
    ok(bad.code !== 0);
    ok(/ATM id must be/.test(bad.stderr), bad.stderr);
    await Deno.remove(out);
  });
});
