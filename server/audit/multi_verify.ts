/**
 * `verifyAuditLogs`: checks the audit logs of several bank servers that share one ledger, and
 * the ledger against them. Each log is checked on its own, as `bank audit --verify` does (every
 * record, chain link and MAC it holds keys for, and the chain head the ledger stored for that
 * server); then every committed journal entry must be held by at least one log: a `tx` record
 * with its entry id (the original or a retry's answer on another server) or an `opening` record.
 * An entry that no log holds is reported with the server that committed it.
 *
 * The caller supplies the ledger as two functions, so this module does not depend on a store.
 *
 * @module
 */

import type { ChainHead, StampedEvent } from "./audit_types.ts";
import { decryptAudit } from "./decrypt.ts";
import { type AuditProblem, describeAuditProblem } from "./verify.ts";

/** Journal entries listed by id when no log holds them; the rest are only counted. */
export const MISSING_ENTRIES_LISTED_MAX = 20;

/** Journal entries read per call. */
const JOURNAL_PAGE_ENTRIES = 10_000;

/** What the check needs to know about a journal entry. */
export interface JournalItem {
  entryId: number;
  kind: string;
  requestId: string | null;
  amountCents: number;
  at: string;
  /** The server that committed it; null for administrative commands. */
  serverId: string | null;
}

/** The ledger, as far as the check reads it. */
export interface LedgerView {
  /** Entries with id > afterEntryId, oldest first, at most `limit`. */
  journalAfter(afterEntryId: number, limit: number): Promise<JournalItem[]>;
  /** The chain head the ledger stores for a server. */
  auditHead(serverId: string): Promise<ChainHead | undefined>;
}

/** The outcome for one log. */
export interface LogReport {
  dataDir: string;
  /** The server named in the log's records; undefined for an empty or unreadable log. */
  serverId?: string;
  records: number;
  /** Records whose MAC could not be checked (older epochs; no offline key in this mode). */
  uncheckedRecords: number;
  /** Distinct journal entries the log holds. */
  entries: number;
  problem?: AuditProblem;
}

/** The outcome of the whole check. */
export interface MultiVerifyReport {
  ok: boolean;
  logs: LogReport[];
  /** Committed journal entries. */
  journalEntries: number;
  /** Entries no log holds: the first {@link MISSING_ENTRIES_LISTED_MAX}, and how many in all. */
  missing: JournalItem[];
  missingCount: number;
  /** Two data directories whose logs name the same server. */
  duplicateServer?: string;
}

/**
 * Checks every log, then the journal against the union of the logs.
 *
 * @param dataDirs The servers' data directories (each with its audit log and keys).
 * @param ledger The shared ledger.
 * @returns The report; problems are reported, never thrown.
 * @throws {Error} Only when the ledger itself cannot be read.
 */
export async function verifyAuditLogs(
  dataDirs: readonly string[],
  ledger: LedgerView,
): Promise<MultiVerifyReport> {
  const held = new EntrySet();
  const logs: LogReport[] = [];
  for (const dataDir of dataDirs) logs.push(await checkLog(dataDir, ledger, held));
  const seen = new Set<string>();
  let duplicateServer: string | undefined;
  for (const log of logs) {
    if (log.serverId === undefined) continue;
    if (seen.has(log.serverId)) duplicateServer ??= log.serverId;
    seen.add(log.serverId);
  }
  const missing: JournalItem[] = [];
  let missingCount = 0;
  let journalEntries = 0;
  for (let after = 0;;) {
    const page = await ledger.journalAfter(after, JOURNAL_PAGE_ENTRIES);
    if (page.length === 0) break;
    for (const entry of page) {
      journalEntries++;
      if (held.has(entry.entryId)) continue;
      missingCount++;
      if (missing.length < MISSING_ENTRIES_LISTED_MAX) missing.push(entry);
    }
    after = page[page.length - 1].entryId;
  }
  const logsOk = logs.every((log) => log.problem === undefined);
  return {
    ok: logsOk && missingCount === 0 && duplicateServer === undefined,
    logs,
    journalEntries,
    missing,
    missingCount,
    duplicateServer,
  };
}

/** Reads one log through, checking it, and adds the entries it holds to `held`. */
async function checkLog(dataDir: string, ledger: LedgerView, held: EntrySet): Promise<LogReport> {
  const report: LogReport = { dataDir, records: 0, uncheckedRecords: 0, entries: 0 };
  try {
    report.serverId = await firstServerId(dataDir);
    if (report.serverId === undefined) return report;
    const ledgerHead = await ledger.auditHead(report.serverId);
    const own = new EntrySet();
    const events = decryptAudit({ dataDir, ledgerHead });
    for (let next = await events.next();; next = await events.next()) {
      if (next.done) {
        report.records = next.value.records;
        report.uncheckedRecords = next.value.uncheckedRecords;
        break;
      }
      const entryId = heldEntryId(next.value);
      if (entryId !== undefined && !own.has(entryId)) {
        own.add(entryId);
        held.add(entryId);
        report.entries++;
      }
    }
  } catch (error) {
    report.problem = describeAuditProblem(error);
  }
  return report;
}

/** The server named by the log's first record, or undefined for an empty log. */
async function firstServerId(dataDir: string): Promise<string | undefined> {
  const events = decryptAudit({ dataDir });
  try {
    const first = await events.next();
    return first.done ? undefined : first.value.serverId;
  } finally {
    await events.return({ records: 0, yielded: 0, uncheckedRecords: 0 });
  }
}

/** The journal entry a record holds: a committed transaction (or its replay) or an opening. */
function heldEntryId(event: StampedEvent): number | undefined {
  const entryId = event.entryId;
  if (typeof entryId !== "number" || !Number.isSafeInteger(entryId) || entryId <= 0) {
    return undefined;
  }
  if (event.type === "opening") return entryId;
  if (event.type === "tx" && event.result === "ok") return entryId;
  return undefined;
}

/**
 * Entry ids below this go into a bitmap (at most 16 MiB); larger ones, which a journal reaches
 * only after 134 million entries, into a plain set. A record naming a huge id thus cannot make
 * the bitmap huge.
 */
const BITMAP_IDS_MAX = 2 ** 27;

/**
 * A set of positive entry ids. Journal ids are dense, so a bitmap holds a million entries in
 * 125 KB instead of a hash set's tens of megabytes.
 */
class EntrySet {
  #bits = new Uint8Array(1024);
  readonly #large = new Set<number>();

  add(id: number): void {
    if (id >= BITMAP_IDS_MAX) {
      this.#large.add(id);
      return;
    }
    const byte = Math.floor(id / 8);
    if (byte >= this.#bits.length) {
      const grown = new Uint8Array(
        Math.min(Math.max(byte + 1, this.#bits.length * 2), BITMAP_IDS_MAX / 8),
      );
      grown.set(this.#bits);
      this.#bits = grown;
    }
    this.#bits[byte] |= 1 << (id % 8);
  }

  has(id: number): boolean {
    if (id >= BITMAP_IDS_MAX) return this.#large.has(id);
    const byte = Math.floor(id / 8);
    return byte < this.#bits.length && (this.#bits[byte] & (1 << (id % 8))) !== 0;
  }
}
