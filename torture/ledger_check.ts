/**
 * The torture run's verdict on the ledger: every operation the ATMs started is compared with the
 * journal, entry by entry, and the money is counted. The comparison is a pure function of the
 * history and a snapshot of the ledger, so its own tests can feed it a ledger that lost or
 * doubled a transaction and see it say so.
 *
 * @module
 */

import { JOURNAL_ENTRIES_LIMIT_MAX } from "../server/ledger/rules.ts";
import type { JournalEntry, LedgerStore } from "../server/ledger/store.ts";
import type { OpRecord } from "./history.ts";

/** Problems listed per kind before the rest are only counted; keeps a bad run's output short. */
export const PROBLEMS_SHOWN_MAX = 20;

/** What the checks need from the ledger, read after the bank stopped. */
export interface LedgerSnapshot {
  /** Every journal entry, oldest first. */
  entries: JournalEntry[];
  /** Each customer's stored balance. */
  balances: Map<string, number>;
  /** What the ledger's own checkInvariants() found (double entry, no negative balance). */
  invariantProblems: string[];
}

/** The verdict. */
export interface LedgerVerdict {
  /** Acknowledged operations (answered ok) with no journal entry. */
  lost: number;
  /** Operations with more than one journal entry. */
  duplicated: number;
  /** Journal entries that no operation of the history explains, or that were refused. */
  phantom: number;
  /** Opening balances plus acknowledged deposits minus acknowledged withdrawals. */
  expectedTotalCents: number;
  /** The sum of all customer balances in the ledger. */
  ledgerTotalCents: number;
  /** Every problem in words; empty when the ledger agrees with the history. */
  problems: string[];
}

/**
 * Reads every journal entry of a ledger, oldest first, a page at a time.
 *
 * @param store An open ledger.
 * @returns All its entries.
 */
export async function readWholeJournal(store: LedgerStore): Promise<JournalEntry[]> {
  const entries: JournalEntry[] = [];
  let after = 0;
  while (true) {
    const page = await store.journalAfter(after, JOURNAL_ENTRIES_LIMIT_MAX);
    if (page.length === 0) break;
    entries.push(...page);
    after = page[page.length - 1].entryId;
  }
  return entries;
}

/**
 * Reads a snapshot of a ledger.
 *
 * @param store An open ledger; nothing else should write to it meanwhile.
 * @returns The entries, balances and invariant check.
 */
export async function readLedgerSnapshot(store: LedgerStore): Promise<LedgerSnapshot> {
  const entries = await readWholeJournal(store);
  const balances = new Map<string, number>();
  for (const customer of await store.listCustomers()) {
    balances.set(customer.name, customer.balanceCents);
  }
  const invariants = await store.checkInvariants();
  const invariantProblems = invariants.ok && invariants.problems.length === 0
    ? []
    : invariants.problems.length > 0
    ? invariants.problems
    : ["checkInvariants() reported not ok without naming a problem"];
  return { entries, balances, invariantProblems };
}

/**
 * Collects problems as `KIND: TEXT` lines, showing the first {@link PROBLEMS_SHOWN_MAX} of each
 * kind in full and only counting the rest.
 */
export class Problems {
  /** The lines so far. */
  readonly lines: string[] = [];
  readonly #counts = new Map<string, number>();

  /**
   * Records one problem.
   *
   * @param kind Its kind, which starts the line.
   * @param text What is wrong.
   */
  add(kind: string, text: string): void {
    const count = (this.#counts.get(kind) ?? 0) + 1;
    this.#counts.set(kind, count);
    if (count <= PROBLEMS_SHOWN_MAX) this.lines.push(`${kind}: ${text}`);
  }

  /**
   * Ends the list with one `KIND: ... and N more` line per kind that had more than were shown.
   *
   * @returns The lines.
   */
  finish(): string[] {
    for (const [kind, count] of this.#counts) {
      if (count > PROBLEMS_SHOWN_MAX) {
        this.lines.push(`${kind}: ... and ${count - PROBLEMS_SHOWN_MAX} more`);
      }
    }
    return this.lines;
  }
}

function entryMatches(op: OpRecord, entry: JournalEntry): boolean {
  return entry.kind === op.kind && entry.amountCents === op.amountCents &&
    entry.customer === op.customer && entry.atmId === op.atmId &&
    (entry.counterparty ?? undefined) === op.to;
}

/** Applies one carried-out operation to the expected balances. */
function move(expected: Map<string, number>, op: OpRecord): void {
  const add = (name: string, cents: number) =>
    expected.set(name, (expected.get(name) ?? 0) + cents);
  if (op.kind === "deposit") add(op.customer, op.amountCents);
  if (op.kind === "withdraw") add(op.customer, -op.amountCents);
  if (op.kind === "transfer") {
    add(op.customer, -op.amountCents);
    add(op.to!, op.amountCents);
  }
}

/**
 * Compares the history of a finished run with the ledger.
 *
 * Every operation must have ended (answered during the run or resolved at the end). An operation
 * answered ok must have exactly one entry that matches it, and the balance the bank reported must
 * be the balance that entry left; a refused one must have none; no entry may lack an operation.
 * Each customer's balance must equal their opening balance plus what the carried-out operations
 * moved, and the total must equal the openings plus deposits minus withdrawals.
 *
 * @param ops Every operation of the run.
 * @param openings Each customer's opening balance, as the run set it up.
 * @param ledger The ledger's snapshot.
 * @returns The verdict.
 */
export function checkLedger(
  ops: readonly OpRecord[],
  openings: ReadonlyMap<string, number>,
  ledger: LedgerSnapshot,
): LedgerVerdict {
  const problems = new Problems();
  const byRequest = new Map<string, JournalEntry[]>();
  for (const entry of ledger.entries) {
    if (entry.requestId === null) continue;
    const list = byRequest.get(entry.requestId) ?? [];
    list.push(entry);
    byRequest.set(entry.requestId, list);
  }
  const expected = new Map(openings);
  let lost = 0, duplicated = 0, phantom = 0, deposits = 0, withdrawals = 0;
  const known = new Set<string>();
  for (const op of ops) {
    known.add(op.requestId);
    const found = byRequest.get(op.requestId) ?? [];
    if (found.length > 1) {
      duplicated++;
      problems.add("duplicated", `request ${op.requestId} has ${found.length} entries`);
    }
    for (const anomaly of op.anomalies) problems.add("anomaly", `${op.requestId}: ${anomaly}`);
    const outcome = op.outcome;
    if (outcome.status === "pending" || outcome.status === "in_doubt") {
      problems.add("unresolved", `request ${op.requestId} never got an answer`);
      continue;
    }
    if (outcome.status === "refused") {
      if (found.length > 0) {
        phantom++;
        problems.add("phantom", `request ${op.requestId} was refused but has an entry`);
      }
      continue;
    }
    if (found.length === 0) {
      lost++;
      problems.add("lost", `request ${op.requestId} (${op.kind}) was acknowledged, no entry`);
      continue;
    }
    const entry = found[0];
    if (!entryMatches(op, entry)) {
      problems.add("mismatch", `entry ${entry.entryId} does not match request ${op.requestId}`);
    }
    if (entry.balanceAfterCents !== outcome.balanceCents) {
      problems.add(
        "balance",
        `request ${op.requestId}: answered balance ${outcome.balanceCents}, entry ${entry.entryId} ` +
          `left ${entry.balanceAfterCents}`,
      );
    }
    move(expected, op);
    if (op.kind === "deposit") deposits += op.amountCents;
    if (op.kind === "withdraw") withdrawals += op.amountCents;
  }
  for (const [requestId, entries] of byRequest) {
    if (known.has(requestId)) continue;
    phantom += entries.length;
    problems.add("phantom", `entry ${entries[0].entryId} (request ${requestId}) has no operation`);
  }
  for (const [name, cents] of openings) {
    const opening = ledger.entries.filter((e) => e.kind === "opening" && e.customer === name);
    const total = opening.reduce((sum, e) => sum + e.amountCents, 0);
    if (total !== cents) problems.add("opening", `${name}: opening ${total}, set up ${cents}`);
  }
  let ledgerTotalCents = 0;
  for (const [name, cents] of ledger.balances) {
    ledgerTotalCents += cents;
    if (cents < 0) problems.add("negative", `${name} has balance ${cents}`);
    if (cents !== (expected.get(name) ?? 0)) {
      problems.add("balance", `${name}: ledger ${cents}, history says ${expected.get(name) ?? 0}`);
    }
  }
  for (const name of expected.keys()) {
    if (!ledger.balances.has(name)) problems.add("balance", `${name} is missing from the ledger`);
  }
  const openingTotal = [...openings.values()].reduce((sum, cents) => sum + cents, 0);
  const expectedTotalCents = openingTotal + deposits - withdrawals;
  if (ledgerTotalCents !== expectedTotalCents) {
    problems.add(
      "money",
      `customers hold ${ledgerTotalCents}, openings + deposits - withdrawals = ${expectedTotalCents}`,
    );
  }
  for (const problem of ledger.invariantProblems) problems.add("invariant", problem);
  return {
    lost,
    duplicated,
    phantom,
    expectedTotalCents,
    ledgerTotalCents,
    problems: problems.finish(),
  };
}
