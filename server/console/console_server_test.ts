/**
 * The console as `bank serve` starts it, over plain HTTP from the test (the browser test covers
 * the pages): the one-time password's life, `bank operator passwd`, and a taken port.
 */

import { equal, match, ok } from "node:assert/strict";
import { runCommand, startBankProcess } from "../testing/bank_process.ts";
import { freePort } from "../testing/browser.ts";

const ONE_TIME_LINE = /One-time operator password: (\S+)/;

/** How long a test waits for the console lines after the bank listens. */
const CONSOLE_WAIT_MS = 10_000;

async function waitForLog(log: () => string, pattern: RegExp): Promise<RegExpMatchArray> {
  const deadline = Date.now() + CONSOLE_WAIT_MS;
  while (Date.now() < deadline) {
    const found = log().match(pattern);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no ${pattern} in:\n${log()}`);
}

/** Signs in as a browser form would; returns the status and whether a session cookie came. */
async function signIn(port: number, password: string) {
  const response = await fetch(`http://127.0.0.1:${port}/login`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "sec-fetch-site": "same-origin",
    },
    body: new URLSearchParams({ password }),
  });
  await response.body?.cancel();
  return { status: response.status, cookie: response.headers.get("set-cookie") !== null };
}

Deno.test("bank serve prints a one-time password on first start only, and passwd replaces it", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "console-server-" });
  try {
    const port = freePort();
    const first = await startBankProcess(dataDir, ["--console-port", String(port)]);
    let oneTime = "";
    try {
      oneTime = (await waitForLog(first.log, ONE_TIME_LINE))[1];
      await waitForLog(first.log, /console: ready url=http:\/\/127\.0\.0\.1:\d+\//);
      const mode = (await Deno.stat(`${dataDir}/keys/operator.pass`)).mode! & 0o777;
      equal(mode, 0o600, "the password file is owner-only");
      const accepted = await signIn(port, oneTime);
      equal(accepted.status, 303);
      ok(accepted.cookie);
    } finally {
      equal(await first.stop(), 0, first.log());
    }

    const newPassword = "correct horse battery staple";
    const passwd = await runCommand("bank", [
      "operator",
      "passwd",
      "--data",
      dataDir,
      "--password-stdin",
    ], `${newPassword}\n`);
    equal(passwd.code, 0, passwd.stderr);
    ok(!passwd.stdout.includes(newPassword) && !passwd.stderr.includes(newPassword));

    const second = await startBankProcess(dataDir, ["--console-port", String(port)]);
    try {
      await waitForLog(second.log, /console: ready/);
      ok(!ONE_TIME_LINE.test(second.log()), "no new one-time password once one is set");
      equal((await signIn(port, oneTime)).status, 401, "the one-time password is gone");
      const accepted = await signIn(port, newPassword);
      equal(accepted.status, 303);
      ok(accepted.cookie);
    } finally {
      equal(await second.stop(), 0, second.log());
    }
    const files = [first.log(), second.log()].join("\n");
    ok(!files.includes(newPassword), "the new password is in no log");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("bank passwd refuses a short password and changes nothing", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "console-passwd-" });
  try {
    const short = await runCommand("bank", [
      "operator",
      "passwd",
      "--data",
      dataDir,
      "--password-stdin",
    ], "short\n");
    equal(short.code, 2);
    match(short.stderr, /at least 12 characters: got 5; nothing was changed/);
    ok(!short.stderr.includes("short"), "the refused password is not repeated");
    let exists = true;
    await Deno.stat(`${dataDir}/keys/operator.pass`).catch(() => (exists = false));
    equal(exists, false);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("bank serve stops with a clear error when the console port is taken", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "console-port-" });
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const start = await startBankProcess(dataDir, ["--console-port", String(port)]).then(
      async (bank) => {
        await bank.stop();
        return "started";
      },
      (error: Error) => error.message,
    );
    match(start, new RegExp(`Console port ${port} is in use: pick another with --console-port`));
  } finally {
    taken.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
