/**
 * Crash consistency with real processes: a demo bank under load from concurrent ATM clients is
 * killed with SIGKILL, a torn write is left at the end of its log, and the bank is restarted. The
 * log must then verify (also with the offline key) and hold exactly one record for every committed
 * journal entry, including every transaction an ATM saw acknowledged.
 *
 * Bounded: LOAD_MS of load from CLIENTS clients on loopback, one request in flight per client.
 */

import assert from "node:assert/strict";
import { BankClient } from "../atm/bank_client.ts";
import { readCredential } from "../lib/mod.ts";
import { readWholeJournal } from "../torture/ledger_check.ts";
import type { StampedEvent } from "./audit/mod.ts";
import { allEvents } from "./audit/_test_support.ts";
import { openSqliteStore } from "./ledger/sqlite_store.ts";
import { runCommand, startBankProcess } from "./testing/bank_process.ts";

/** How long the clients send deposits before the bank is killed. */
const LOAD_MS = 3_000;

/** Concurrent ATM clients: alice, bob, carol on their own ATMs, and alice again on ATM 1. */
const CLIENTS = [
  { atm: 1, user: "alice", pin: "1111" },
  { atm: 2, user: "bob", pin: "2222" },
  { atm: 3, user: "carol", pin: "3333" },
  { atm: 1, user: "alice", pin: "1111" },
];

/** Bytes of a record left at the end of the log, as if a write was cut short. */
const TORN_BYTES = 61;

async function loadUntil(
  dir: string,
  port: number,
  client: (typeof CLIENTS)[number],
  stop: { now: boolean },
): Promise<string[]> {
  const { atmId, psk } = await readCredential(`${dir}/atms/atm-${client.atm}.json`);
  const bank = new BankClient({
    atmId,
    psk,
    servers: [`127.0.0.1:${port}`],
    retry: { attemptsMax: 1 },
    timeouts: { connectMs: 2_000, handshakeMs: 2_000, responseMs: 5_000 },
  });
  const acknowledged: string[] = [];
  try {
    await bank.login(client.user, client.pin);
    while (!stop.now) {
      const answer = await bank.request({ op: "deposit", amount: "0.01" });
      assert.equal(answer.replayed ?? false, false);
      acknowledged.push(answer.id);
    }
  } catch {
    // the bank was killed under this client: its request in flight was never acknowledged
  } finally {
    await bank.close().catch(() => {});
  }
  return acknowledged;
}

Deno.test("a bank killed with SIGKILL under load restarts to a log with one record per entry", async () => {
  const dir = await Deno.makeTempDir({ prefix: "audit-crash-" });
  try {
    // load, then kill while requests are in flight
    const first = await startBankProcess(dir, ["--demo"]);
    const stop = { now: false };
    const workers = CLIENTS.map((client) => loadUntil(dir, first.port, client, stop));
    await new Promise((resolve) => setTimeout(resolve, LOAD_MS));
    await first.kill();
    stop.now = true;
    const acknowledged = (await Promise.all(workers)).flat();
    assert.ok(acknowledged.length > CLIENTS.length, `only ${acknowledged.length} acknowledged`);

    // a torn last line, as a write cut off by a power loss would leave
    const logDir = `${dir}/audit`;
    const last = [...Deno.readDirSync(logDir)].map((e) => e.name).filter((n) => n.endsWith(".enc"))
      .sort().at(-1)!;
    const lastLine = (await Deno.readTextFile(`${logDir}/${last}`)).trimEnd().split("\n").at(-1)!;
    await Deno.writeTextFile(`${logDir}/${last}`, lastLine.slice(0, TORN_BYTES), { append: true });

    // restart: repair and reconcile, then stop cleanly
    const second = await startBankProcess(dir);
    assert.equal(await second.stop(), 0, second.log());

    const verify = await runCommand("bank", [
      "audit",
      "--verify",
      "--offline-key",
      `${dir}/audit-offline.key`,
      "--data",
      dir,
    ]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /^result {3}OK$/m);

    const events = await allEvents(dir, `${dir}/audit-offline.key`);
    const repaired = events.filter((e) => e.type === "audit_repaired");
    assert.equal(repaired.length, 1);
    assert.equal(repaired[0].bytesDiscarded, TORN_BYTES);
    assert.equal(repaired[0].file, `audit/${last}`);

    // exactly one record per committed journal entry
    const store = await openSqliteStore(`${dir}/ledger.sqlite`);
    const journal = await readWholeJournal(store).finally(() => store.close());
    const recorded = events.filter((e) => typeof e.entryId === "number" && e.replayed !== true);
    assert.deepEqual(
      recorded.map((e) => e.entryId).sort((a, b) => (a as number) - (b as number)),
      journal.map((entry) => entry.entryId),
    );
    // and every acknowledged transaction among them, once, with its result and balance
    const byRequest = new Map<string, StampedEvent[]>();
    for (const event of recorded) {
      if (typeof event.requestId !== "string") continue;
      byRequest.set(event.requestId, [...byRequest.get(event.requestId) ?? [], event]);
    }
    for (const id of acknowledged) {
      const records = byRequest.get(id) ?? [];
      assert.equal(records.length, 1, `request ${id} has ${records.length} records`);
      assert.equal(records[0].result, "ok");
      assert.equal(typeof records[0].balanceCents, "number");
    }
    const starts = events.filter((e) => e.type === "bank_start").length;
    assert.equal(starts, 2);
    assert.equal(events.filter((e) => e.type === "bank_stop").length, 1, "the killed run had none");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
