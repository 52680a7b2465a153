/**
 * Reconciliation between the ledger and the audit log: every committed journal entry gets exactly
 * one audit record. The bank appends the records of its own entries in entry-id order (SQLite
 * hands out ids in commit order), so the log covers every entry up to `audit.lastEntryId`. An
 * entry above it lacks a record for one of two reasons, and both are repaired from the journal
 * with a record marked `recovered: true`:
 *
 * - a crash after the ledger commit and before the audit flush (repaired when the bank starts);
 * - another process committed it (`bank customer add --deposit` while the bank runs): repaired
 *   before the bank records its next batch, so the id order holds.
 *
 * With several bank servers on one PostgreSQL ledger the journal holds every server's entries,
 * and ids are in commit order only among one server's own (its batches commit one at a time).
 * Each entry names the server that committed it, so a server on a shared ledger passes its id as
 * `committedBy` and reconciles only its own entries and those of administrative commands (which
 * every server then records; `bank audit --verify` over several logs treats them as one union).
 *
 * @module
 */

import type { AuditEvent, AuditLog } from "./audit/mod.ts";
import type { JournalEntry, LedgerStore, OperationResult } from "./ledger/store.ts";

/** Journal entries read per step while recovering; bounds memory on a long gap. */
const RECOVERY_ENTRIES_PER_STEP = 1_000;

/**
 * How many records a catch-up wrote, by kind. Opening balances of `bank customer add` are always
 * committed outside the bank's batches, so recovering them is routine; a recovered transaction
 * means the bank stopped between its ledger commit and its audit flush.
 */
export interface RecoveredCounts {
  /** Opening-balance entries. */
  openings: number;
  /** Deposits, withdrawals and transfers. */
  transactions: number;
}

/**
 * Appends a recovered audit record for every journal entry newer than the log's last one, and
 * makes them durable. Run at start, before any new transaction.
 *
 * @param store The ledger.
 * @param audit The audit log, just opened.
 * @param committedBy On a shared ledger, this server's id: only its own entries are recovered.
 * @returns How many records were recovered, by kind.
 */
export async function recoverAuditFromJournal(
  store: LedgerStore,
  audit: AuditLog,
  committedBy?: string,
): Promise<RecoveredCounts> {
  const recovered = await appendJournalAfter(store, audit, {
    beforeEntryId: Number.MAX_SAFE_INTEGER,
    committedBy,
  });
  if (recovered.openings + recovered.transactions > 0) {
    await store.setAuditHead(await audit.flush());
  }
  return recovered;
}

/**
 * Before the bank records a batch: appends recovered records for the entries other processes
 * committed since the log's last entry, so the batch's records keep the id order. Flushed with
 * the batch's own records.
 *
 * @param store The ledger.
 * @param audit The open audit log.
 * @param results The batch's ledger results.
 * @param committedBy On a shared ledger, this server's id: other servers' entries are theirs.
 * @returns How many records were appended.
 */
export async function recordJournalGap(
  store: LedgerStore,
  audit: AuditLog,
  results: readonly OperationResult[],
  committedBy?: string,
): Promise<number> {
  let first = Number.MAX_SAFE_INTEGER;
  for (const result of results) {
    if (result.ok && !result.replayed) first = Math.min(first, result.entryId);
  }
  if (first === Number.MAX_SAFE_INTEGER || first <= audit.lastEntryId + 1) return 0;
  const appended = await appendJournalAfter(store, audit, { beforeEntryId: first, committedBy });
  return appended.openings + appended.transactions;
}

/** Appends a record for each entry after `audit.lastEntryId` and before `beforeEntryId`. */
async function appendJournalAfter(
  store: LedgerStore,
  audit: AuditLog,
  scope: { beforeEntryId: number; committedBy: string | undefined },
): Promise<RecoveredCounts> {
  const { beforeEntryId, committedBy } = scope;
  const appended = { openings: 0, transactions: 0 };
  while (true) {
    const entries = await store.journalAfter(
      audit.lastEntryId,
      RECOVERY_ENTRIES_PER_STEP,
      committedBy,
    );
    const wanted = entries.filter((entry) => entry.entryId < beforeEntryId);
    for (const entry of wanted) {
      audit.append(recoveredEvent(entry));
      if (entry.kind === "opening") appended.openings++;
      else appended.transactions++;
    }
    if (wanted.length < RECOVERY_ENTRIES_PER_STEP) return appended;
  }
}

/**
 * The audit record of a journal entry rebuilt from the ledger.
 *
 * @param entry The journal entry.
 * @returns The event, marked `recovered: true`.
 */
export function recoveredEvent(entry: JournalEntry): AuditEvent {
  if (entry.kind === "opening") {
    return {
      type: "opening",
      entryId: entry.entryId,
      customer: entry.customer,
      amountCents: entry.amountCents,
      balanceCents: entry.balanceAfterCents,
      committedAt: entry.at,
      recovered: true,
    };
  }
  return {
    type: "tx",
    requestId: entry.requestId,
    atmId: entry.atmId,
    customer: entry.customer,
    op: entry.kind,
    amountCents: entry.amountCents,
    counterparty: entry.counterparty ?? undefined,
    result: "ok",
    entryId: entry.entryId,
    balanceCents: entry.balanceAfterCents,
    committedAt: entry.at,
    recovered: true,
  };
}
