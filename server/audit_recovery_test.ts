import assert from "node:assert/strict";
import { AuditLog, initAuditKeys, type StampedEvent } from "./audit/mod.ts";
import { readWholeJournal } from "../torture/ledger_check.ts";
import { allEvents } from "./audit/_test_support.ts";
import { recordJournalGap, recoverAuditFromJournal } from "./audit_recovery.ts";
import { openSqliteStore } from "./ledger/sqlite_store.ts";
import type { LedgerStore, Operation } from "./ledger/store.ts";
import { TEST_PIN } from "./ledger/store_suite_helpers.ts";

interface Fixture {
  dir: string;
  store: LedgerStore;
  cleanup(): Promise<void>;
}

async function fixture(): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "audit-recovery-" });
  await initAuditKeys({ dataDir: dir });
  const store = await openSqliteStore(`${dir}/ledger.sqlite`);
  return {
    dir,
    store,
    cleanup: async () => {
      await store.close().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    },
  };
}

let requests = 0;
function deposit(customerId: number, amountCents: number): Operation {
  requests++;
  return { kind: "deposit", requestId: `r-${requests}`, atmId: "atm-1", customerId, amountCents };
}

/** Entry ids of the records that stand for a ledger entry (replays repeat an old one). */
function recordedEntryIds(events: StampedEvent[]): number[] {
  return events
    .filter((e) => typeof e.entryId === "number" && e.replayed !== true)
    .map((e) => e.entryId as number);
}

async function journalIds(store: LedgerStore): Promise<number[]> {
  return (await readWholeJournal(store)).map((entry) => entry.entryId);
}

/** What the bank does for one batch: ledger commit, gap records, its own records, flush. */
async function bankBatch(store: LedgerStore, audit: AuditLog, ops: Operation[]): Promise<void> {
  const results = await store.applyBatch(ops);
  await recordJournalGap(store, audit, results);
  results.forEach((result, i) => {
    audit.append({
      type: "tx",
      requestId: ops[i].requestId,
      result: result.ok ? "ok" : result.reason,
      replayed: result.replayed,
      ...(result.ok ? { entryId: result.entryId, balanceCents: result.balanceCents } : {}),
    });
  });
  await store.setAuditHead(await audit.flush());
}

Deno.test("recoverAuditFromJournal() writes each committed entry the log lacks, once, marked recovered", async () => {
  const f = await fixture();
  try {
    const alice = await f.store.addCustomer({ name: "alice", pin: TEST_PIN, openingCents: 500 });
    // entries committed while no audit record was made: a crash between ledger and audit
    await f.store.applyBatch([deposit(alice.id, 100), deposit(alice.id, 200)]);
    await f.store.applyBatch([{ ...deposit(alice.id, 300), kind: "withdraw" }]);

    const audit = await AuditLog.open({ dataDir: f.dir, serverId: "bank-1" });
    assert.deepEqual(await recoverAuditFromJournal(f.store, audit), {
      openings: 1,
      transactions: 3,
    });
    assert.deepEqual(
      await recoverAuditFromJournal(f.store, audit),
      { openings: 0, transactions: 0 },
      "nothing twice",
    );
    await audit.close();

    const events = await allEvents(f.dir);
    assert.deepEqual(recordedEntryIds(events), await journalIds(f.store));
    assert.ok(events.every((e) => e.recovered === true));
    assert.deepEqual(events.map((e) => [e.type, e.op ?? null, e.balanceCents]), [
      ["opening", null, 500],
      ["tx", "deposit", 600],
      ["tx", "deposit", 800],
      ["tx", "withdraw", 500],
    ]);
    assert.equal((await f.store.auditHead("bank-1"))?.seq, 4, "the ledger holds the new head");

    // a second start finds every entry recorded
    const again = await AuditLog.open({
      dataDir: f.dir,
      serverId: "bank-1",
      ledgerHead: await f.store.auditHead("bank-1"),
    });
    assert.deepEqual(await recoverAuditFromJournal(f.store, again), {
      openings: 0,
      transactions: 0,
    });
    await again.close();
  } finally {
    await f.cleanup();
  }
});

Deno.test("recoverAuditFromJournal() recovers only the entries after the last recorded one", async () => {
  const f = await fixture();
  try {
    const bob = await f.store.addCustomer({ name: "bob", pin: TEST_PIN, openingCents: 0 });
    let audit = await AuditLog.open({ dataDir: f.dir, serverId: "bank-1" });
    await bankBatch(f.store, audit, [deposit(bob.id, 1), deposit(bob.id, 2)]);
    await audit.close();
    await f.store.applyBatch([deposit(bob.id, 3)]); // committed, then the bank died

    audit = await AuditLog.open({ dataDir: f.dir, serverId: "bank-1" });
    assert.deepEqual(await recoverAuditFromJournal(f.store, audit), {
      openings: 0,
      transactions: 1,
    });
    await audit.close();
    const events = await allEvents(f.dir);
    assert.deepEqual(recordedEntryIds(events), await journalIds(f.store));
    assert.deepEqual(events.map((e) => e.recovered === true), [false, false, true]);
  } finally {
    await f.cleanup();
  }
});

Deno.test("recordJournalGap() records another process's entry before the bank's next batch", async () => {
  const f = await fixture();
  try {
    const carol = await f.store.addCustomer({ name: "carol", pin: TEST_PIN, openingCents: 0 });
    const audit = await AuditLog.open({ dataDir: f.dir, serverId: "bank-1" });
    await bankBatch(f.store, audit, [deposit(carol.id, 10)]);
    // `bank customer add dave --deposit 7.00` in another process while the bank runs
    const peer = await openSqliteStore(`${f.dir}/ledger.sqlite`);
    await peer.addCustomer({ name: "dave", pin: TEST_PIN, openingCents: 700 });
    await peer.close();
    const replay = deposit(carol.id, 10);
    await bankBatch(f.store, audit, [deposit(carol.id, 20), replay]);
    await bankBatch(f.store, audit, [replay]); // a retry: replayed, no new entry
    await audit.close();

    const events = await allEvents(f.dir);
    const ids = recordedEntryIds(events);
    assert.deepEqual(ids, await journalIds(f.store), "every entry once, in id order");
    const opening = events.find((e) => e.type === "opening");
    assert.equal(opening?.customer, "dave");
    assert.equal(opening?.recovered, true);
    assert.ok(events.some((e) => e.replayed === true), "the replay has its own record");
  } finally {
    await f.cleanup();
  }
});
