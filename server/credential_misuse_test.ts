/**
 * Misused credentials and sessions, on a real bank process: one ATM credential used from two
 * places at once, a revoked credential (new connections and a session already open), an expired
 * session, and a recorded session replayed byte for byte. Each behaves as docs/security.md says.
 */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { BankClientError } from "../atm/errors.ts";
import { ATM_REVOCATION_CHECK_MS } from "./constants.ts";
import { connectRawAtm } from "./testing/raw_atm.ts";
import { runCommand } from "./testing/bank_process.ts";
import {
  type HostileBank,
  ledgerOf,
  OPENING_CENTS,
  realAtm,
  waitForClose,
  withHostileBank,
} from "../torture/hostile_bank.ts";
import { startTcpRecorder } from "../torture/tcp_recorder.ts";
import { BankClient } from "../atm/bank_client.ts";
import { readCredential } from "../lib/mod.ts";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function balanceOf(bank: HostileBank, customer: string): Promise<number> {
  return (await ledgerOf(bank.setup.dataDir)).balances.get(customer)!;
}

/** The audit events the running bank has written so far, decrypted by `bank audit`. */
async function auditEvents(bank: HostileBank): Promise<Record<string, unknown>[]> {
  await sleep(300); // the bank makes connection events durable within 100 ms
  const result = await runCommand("bank", ["audit", "--decrypt", "--data", bank.setup.dataDir]);
  equal(result.code, 0, result.stderr);
  return result.stdout.trim().split("\n").map((line) => JSON.parse(line));
}

Deno.test("one ATM credential used from two places at once: both are served and audited apart; request ids cannot be hijacked", async () => {
  await withHostileBank({ customers: 2, atms: 1 }, async (bank) => {
    const { credentialPath, atmId } = bank.setup.atms[0];
    const here = await connectRawAtm(credentialPath, bank.port);
    const there = await connectRawAtm(credentialPath, bank.port);
    equal((await here.send({ id: "l1", op: "login", user: "c00", pin: "1000" })).ok, true);
    equal((await there.send({ id: "l2", op: "login", user: "c01", pin: "1001" })).ok, true);
    const deposit = { id: "shared-id", op: "deposit" as const, amount: "2.00" };
    const first = await here.send(deposit);
    equal(first.ok, true);

    // The other place reuses the request id for its own customer: refused, nothing applied.
    const hijack = await there.send(deposit);
    deepStrictEqual([hijack.ok, hijack.ok ? "" : hijack.error], [false, "request_conflict"]);
    // The same customer from the other place gets the first answer back: applied once.
    equal((await there.send({ id: "l3", op: "login", user: "c00", pin: "1000" })).ok, true);
    const again = await there.send(deposit);
    ok(again.ok && again.replayed === true && first.ok && again.balance === first.balance);
    await here.close();
    await there.close();

    equal(await balanceOf(bank, "c00"), OPENING_CENTS + 200);
    equal(await balanceOf(bank, "c01"), OPENING_CENTS);
    const sessions = (await auditEvents(bank))
      .filter((event) => event.type === "connection_opened" && event.atmId === atmId)
      .map((event) => `${event.session} ${event.remote}`);
    equal(new Set(sessions).size, 2, `two sessions of ${atmId} audited apart: ${sessions}`);
  });
});

Deno.test("a revoked credential cannot connect, and a session already open ends at its next request", async () => {
  await withHostileBank({ atms: 1 }, async (bank) => {
    const spec = bank.setup.atms[0];
    const atm = await realAtm(bank, 0);
    equal((await atm.request({ op: "deposit", amount: "1.00" })).ok, true);
    const revoked = await runCommand("bank", [
      "atm",
      "revoke",
      spec.atmId,
      "--data",
      bank.setup.dataDir,
    ]);
    equal(revoked.code, 0, revoked.stderr);
    await sleep(ATM_REVOCATION_CHECK_MS + 200);

    // Before the fix this deposit went through on the session opened before the revocation.
    const after = await atm.request({ op: "deposit", amount: "1.00" }).catch((error) => error);
    ok(after instanceof BankClientError && after.code === "rejected", `got ${after}`);
    await atm.close().catch(() => {});
    const fresh = await realAtm(bank, 0).catch((error) => error);
    ok(fresh instanceof BankClientError && fresh.code === "rejected", `got ${fresh}`);

    equal(await balanceOf(bank, spec.customer.name), OPENING_CENTS + 100);
    match(bank.run.logTail(), /session_closed atm=torture-00 .*reason=atm_revoked/);
    match(bank.run.logTail(), /handshake_failed .*reason=unknown_atm/);
  });
});

Deno.test("an expired session: an idle session is closed by the bank; a new one must log in again", async () => {
  await withHostileBank({ atms: 1, args: ["--idle-timeout-ms", "1500"] }, async (bank) => {
    const spec = bank.setup.atms[0];
    const { atmId, psk } = await readCredential(spec.credentialPath);
    const events: string[] = [];
    const atm = new BankClient({
      atmId,
      psk,
      servers: [`127.0.0.1:${bank.port}`],
      onEvent: (event) => events.push(event.type),
    });
    await atm.login(spec.customer.name, spec.customer.pin);
    await sleep(3_000);
    // The ATM's channel was closed as idle; it reconnects and logs in again by itself.
    equal((await atm.request({ op: "balance" })).ok, true);
    await atm.close();
    ok(events.includes("connection_lost"), `events ${events}`);
    match(bank.run.logTail(), /session_closed atm=torture-00 .*reason=timeout/);

    // A session starts without a customer: nothing but a login is answered on it.
    const raw = await connectRawAtm(spec.credentialPath, bank.port);
    const answer = await raw.send({ id: "b1", op: "balance" });
    deepStrictEqual([answer.ok, answer.ok ? "" : answer.error], [false, "not_logged_in"]);
    await raw.close();
  });
});

Deno.test("a replayed login: a recorded session sent again byte for byte opens nothing and moves no money", async () => {
  await withHostileBank({ atms: 1 }, async (bank) => {
    const spec = bank.setup.atms[0];
    const recorder = startTcpRecorder(bank.port);
    const { atmId, psk } = await readCredential(spec.credentialPath);
    const atm = new BankClient({ atmId, psk, servers: [`127.0.0.1:${recorder.port}`] });
    await atm.login(spec.customer.name, spec.customer.pin);
    equal((await atm.request({ op: "deposit", amount: "5.00" })).ok, true);
    await atm.close();
    await recorder.close();
    const [session] = recorder.recorded();
    ok(session.length > 200, `recorded ${session.length} bytes`);

    // All of it at once, then in two halves with a pause, as an attacker might try.
    for (const parts of [[session], [session.subarray(0, 120), session.subarray(120)]]) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: bank.port });
      for (const part of parts) {
        await conn.write(part).catch(() => 0);
        await sleep(200);
      }
      equal(await waitForClose(conn, 5_000), "closed");
    }
    equal(await balanceOf(bank, spec.customer.name), OPENING_CENTS + 500);
    const logins = (await auditEvents(bank)).filter((event) => event.type === "login_ok");
    equal(logins.length, 1, "only the real login was accepted");
    match(bank.run.logTail(), /handshake_failed .*reason=bad_mac/);
  });
});
