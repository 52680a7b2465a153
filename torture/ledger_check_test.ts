/**
 * The torture checks must be able to fail: each test builds a real ledger with a few operations,
 * then makes the history or the ledger disagree in one way and expects the verdict to name it.
 */

import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { openSqliteStore } from "../server/ledger/sqlite_store.ts";
import type { LedgerStore, OperationResult } from "../server/ledger/store.ts";
import { checkAuditRecords } from "./audit_check.ts";
import { History, type OpRecord } from "./history.ts";
import { checkLedger, type LedgerSnapshot, readLedgerSnapshot } from "./ledger_check.ts";

const PIN = { salt: new Uint8Array(16).fill(1), hash: new Uint8Array(32).fill(2), iterations: 1 };
const OPENINGS = new Map([["ann", 10_000], ["ben", 5_000]]);

/** A real ledger with three carried-out operations and one refusal, and the matching history. */
async function fixture(): Promise<{ history: History; snapshot: LedgerSnapshot }> {
  const dir = await Deno.makeTempDir({ prefix: "torture-check-" });
  const store: LedgerStore = await openSqliteStore(`${dir}/ledger.sqlite`);
  const history = new History();
  try {
    const ann = await store.addCustomer({ name: "ann", pin: PIN, openingCents: 10_000 });
    const ben = await store.addCustomer({ name: "ben", pin: PIN, openingCents: 5_000 });
    const plan = [
      { customer: ann, kind: "deposit" as const, amountCents: 250 },
      { customer: ann, kind: "withdraw" as const, amountCents: 1_000 },
      { customer: ben, kind: "transfer" as const, amountCents: 700, to: "ann" },
      { customer: ben, kind: "withdraw" as const, amountCents: 999_999 },
    ];
    for (const step of plan) {
      const requestId = crypto.randomUUID();
      const base = { requestId, atmId: "atm-1", customerId: step.customer.id };
      const op = step.kind === "transfer"
        ? { ...base, kind: step.kind, amountCents: step.amountCents, toName: step.to! }
        : { ...base, kind: step.kind, amountCents: step.amountCents };
      const [result]: OperationResult[] = await store.applyBatch([op]);
      const record = history.begin({
        requestId,
        atmId: "atm-1",
        customer: step.customer.name,
        kind: step.kind,
        amountCents: step.amountCents,
        to: step.to,
      });
      record.sends = 1;
      record.outcome = result.ok
        ? { status: "ok", balanceCents: result.balanceCents, replayed: false, resolvedAtEnd: false }
        : { status: "refused", reason: result.reason, resolvedAtEnd: false };
    }
    return { history, snapshot: await readLedgerSnapshot(store) };
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function withOutcome(op: OpRecord, outcome: OpRecord["outcome"]): OpRecord {
  return { ...op, outcome };
}

Deno.test("checkLedger() passes a ledger that agrees with the history", async () => {
  const { history, snapshot } = await fixture();
  const verdict = checkLedger(history.ops, OPENINGS, snapshot);
  deepStrictEqual(verdict.problems, []);
  equal(verdict.lost, 0);
  equal(verdict.ledgerTotalCents, 15_000 + 250 - 1_000);
  equal(verdict.expectedTotalCents, verdict.ledgerTotalCents);
});

Deno.test("checkLedger() counts an acknowledged transaction missing from the ledger as lost", async () => {
  const { history, snapshot } = await fixture();
  const deposit = history.ops[0];
  const entries = snapshot.entries.filter((entry) => entry.requestId !== deposit.requestId);
  const verdict = checkLedger(history.ops, OPENINGS, { ...snapshot, entries });
  equal(verdict.lost, 1);
  ok(verdict.problems.some((p) => p.startsWith("lost:") && p.includes(deposit.requestId)));
});

Deno.test("checkLedger() counts a transaction applied twice as duplicated", async () => {
  const { history, snapshot } = await fixture();
  const twice = snapshot.entries.find((entry) => entry.requestId === history.ops[1].requestId)!;
  const entries = [...snapshot.entries, { ...twice, entryId: 999 }];
  const verdict = checkLedger(history.ops, OPENINGS, { ...snapshot, entries });
  equal(verdict.duplicated, 1);
});

Deno.test("checkLedger() reports money that does not add up, per customer and in total", async () => {
  const { history, snapshot } = await fixture();
  const balances = new Map(snapshot.balances);
  balances.set("ben", balances.get("ben")! + 1);
  const verdict = checkLedger(history.ops, OPENINGS, { ...snapshot, balances });
  ok(verdict.problems.some((p) => p.startsWith("balance: ben")));
  ok(verdict.problems.some((p) => p.startsWith("money:")));
});

Deno.test("checkLedger() reports an entry no operation explains and a refusal that was applied", async () => {
  const { history, snapshot } = await fixture();
  const ops = history.ops.slice(1);
  const unexplained = checkLedger(ops, OPENINGS, snapshot);
  equal(unexplained.phantom, 1);
  const refusedButApplied = history.ops.map((op, i) =>
    i === 0 ? withOutcome(op, { status: "refused", reason: "busy", resolvedAtEnd: false }) : op
  );
  equal(checkLedger(refusedButApplied, OPENINGS, snapshot).phantom, 1);
});

Deno.test("checkLedger() reports an operation still in doubt and a wrong acknowledged balance", async () => {
  const { history, snapshot } = await fixture();
  const ops = history.ops.map((op, i) =>
    i === 0
      ? withOutcome(op, { status: "in_doubt" })
      : i === 1
      ? withOutcome(op, { status: "ok", balanceCents: 1, replayed: false, resolvedAtEnd: false })
      : op
  );
  const verdict = checkLedger(ops, OPENINGS, snapshot);
  ok(verdict.problems.some((p) => p.startsWith("unresolved:")));
  ok(verdict.problems.some((p) => p.startsWith("balance: request")));
});

Deno.test("checkLedger() reports the ledger's own invariant problems", async () => {
  const { history, snapshot } = await fixture();
  const verdict = checkLedger(history.ops, OPENINGS, {
    ...snapshot,
    invariantProblems: ["entry 3: 2 postings summing to 5"],
  });
  deepStrictEqual(verdict.problems, ["invariant: entry 3: 2 postings summing to 5"]);
});

Deno.test("checkAuditRecords() wants exactly one commit record per entry and none for others", async () => {
  const { snapshot } = await fixture();
  const lines = snapshot.entries.map((entry) =>
    entry.kind === "opening"
      ? { type: "opening", entryId: entry.entryId }
      : { type: "tx", entryId: entry.entryId, result: "ok", requestId: entry.requestId! }
  );
  deepStrictEqual(checkAuditRecords(lines, snapshot.entries).problems, []);
  const replay = { ...lines[2], replayed: true };
  deepStrictEqual(checkAuditRecords([...lines, replay], snapshot.entries).problems, []);
  const missing = checkAuditRecords(lines.slice(1), snapshot.entries).problems;
  ok(missing.some((p) => p.startsWith("audit missing:")));
  const doubled = checkAuditRecords([...lines, lines[3]], snapshot.entries).problems;
  ok(doubled.some((p) => p.startsWith("audit doubled:")));
  const stray = checkAuditRecords([...lines, { type: "tx", entryId: 77, result: "ok" }], [
    ...snapshot.entries,
  ]).problems;
  ok(stray.some((p) => p.startsWith("audit stray:")));
});
