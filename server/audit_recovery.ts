/**
 * Crash reconciliation between the ledger and the audit log. The ledger commits first and the
 * audit records follow, so after a crash the log may lack the records of the last committed
 * batch. Those are rebuilt here from the journal and marked `recovered: true`, so every committed
 * entry ends up with exactly one record.
 *
 * @module
 */

import type { AuditLog } from "./audit/mod.ts";
import type { LedgerStore } from "./ledger/store.ts";

/** Journal entries read per step while recovering; bounds memory on a long gap. */
const RECOVERY_ENTRIES_PER_STEP = 1_000;

/**
 * Appends a recovered audit record for every journal entry newer than the log's last one, and
 * makes them durable.
 *
 * @param store The ledger.
 * @param audit The audit log, just opened.
 * @returns How many records were recovered.
 */
export async function recoverAuditFromJournal(
  store: LedgerStore,
  audit: AuditLog,
): Promise<number> {
  let after = audit.recovery.lastEntryId;
  let recovered = 0;
  while (true) {
    const entries = await store.journalAfter(after, RECOVERY_ENTRIES_PER_STEP);
    if (entries.length === 0) break;
    for (const entry of entries) {
      if (entry.kind === "opening") {
        audit.append({
          type: "opening",
          entryId: entry.entryId,
          customer: entry.customer,
          amountCents: entry.amountCents,
          balanceCents: entry.balanceAfterCents,
          recovered: true,
        });
      } else {
        audit.append({
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
          recovered: true,
        });
      }
      recovered++;
    }
    after = entries[entries.length - 1].entryId;
  }
  if (recovered > 0) await store.setAuditHead(await audit.flush());
  return recovered;
}
