/**
 * What `AuditLog.open` does before it writes: scan and check the whole chain with the server's
 * key, cut off a torn last line, and find the newest ledger entry id the log mentions so the bank
 * can re-append the records a crash lost (and the inbox files whose records are already in).
 *
 * @module
 */

import { AuditError } from "./audit_error.ts";
import type { ChainHead } from "./audit_types.ts";
import {
  ChainScanner,
  decodeEvent,
  type ScannedRecord,
  type ScanSummary,
  type TornTail,
} from "./chain_scanner.ts";
import { RECOVERY_TAIL_RECORDS } from "./constants.ts";
import type { Keyring } from "./keyring.ts";
import { KeyringMacChecker } from "./mac_checker.ts";
import type { RecordDecrypter } from "./record_cipher.ts";

/** The log as found at open. */
export interface OpenedLog {
  summary: ScanSummary;
  /** The torn line that was cut off, if any. */
  repaired?: TornTail;
  /** Highest `entryId` of any record; 0 when none has one. */
  lastEntryId: number;
  /** `inboxId`s among the newest records: inbox files a crash kept from being deleted. */
  recentInboxIds: Set<string>;
}

/** What the open scan needs. */
export interface OpenScanOptions {
  dataDir: string;
  serverId: string;
  keyring: Keyring;
  decrypter: RecordDecrypter;
  ledgerHead?: ChainHead;
}

/**
 * Scans, checks and repairs the log before writing.
 *
 * @param options Keys, the server id and the ledger head.
 * @returns The scan's summary, the repair made, and the last entry id.
 * @throws {AuditError} For any problem other than a torn last line.
 */
export async function scanForOpen(options: OpenScanOptions): Promise<OpenedLog> {
  const scanner = new ChainScanner({
    dataDir: options.dataDir,
    macs: new KeyringMacChecker(options.keyring), // the writer's keyring: the log erases it
    ledgerHead: options.ledgerHead,
    tornTail: "keep",
  });
  // the newest records are kept to find the last entry id without decrypting the whole log
  const tail: ScannedRecord[] = [];
  let next = 0;
  for await (const record of scanner.records()) {
    tail[next] = record; // a ring: order does not matter for a maximum
    next = (next + 1) % RECOVERY_TAIL_RECORDS;
  }
  const summary = scanner.summary;
  const repaired = summary.torn;
  if (repaired !== undefined) await cutTornTail(repaired);
  const recentInboxIds = new Set<string>();
  let lastEntryId = highestEntryId(tail, options, recentInboxIds);
  if (lastEntryId === null && summary.records > tail.length) {
    lastEntryId = await highestEntryIdOfAll(options);
  }
  return { summary, repaired, lastEntryId: lastEntryId ?? 0, recentInboxIds };
}

async function cutTornTail(torn: TornTail): Promise<void> {
  try {
    const handle = await Deno.open(torn.path, { write: true });
    try {
      await handle.truncate(torn.offset);
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch (error) {
    throw new AuditError("io", "Cannot cut off the torn last line", {
      file: torn.file,
      line: torn.line,
      cause: error,
    });
  }
}

/** Highest entry id among some records, or null when none carries one. */
function highestEntryId(
  records: ScannedRecord[],
  options: OpenScanOptions,
  inboxIds: Set<string>,
): number | null {
  let highest: number | null = null;
  for (const record of records) {
    const event = decodeEvent(record, options.decrypter.decrypt(record.iv, record.ct));
    highest = maxEntryId(highest, event, record, options.serverId);
    if (typeof event.inboxId === "string") inboxIds.add(event.inboxId);
  }
  return highest;
}

async function highestEntryIdOfAll(options: OpenScanOptions): Promise<number | null> {
  const scanner = new ChainScanner({
    dataDir: options.dataDir,
    macs: new KeyringMacChecker(options.keyring), // the writer's keyring: the log erases it
    decrypter: options.decrypter,
    tornTail: "keep", // already cut off; nothing new can have appeared
  });
  let highest: number | null = null;
  for await (const record of scanner.records()) {
    highest = maxEntryId(highest, record.event!, record, options.serverId);
  }
  return highest;
}

function maxEntryId(
  highest: number | null,
  event: Record<string, unknown>,
  record: ScannedRecord,
  serverId: string,
): number | null {
  if (event.serverId !== serverId) {
    throw new AuditError(
      "wrong_server",
      `Record seq ${record.seq} was written by another server, not ${JSON.stringify(serverId)}`,
      { file: record.file, line: record.line },
    );
  }
  const id = event.entryId;
  if (!Number.isSafeInteger(id) || (id as number) < 0) return highest;
  return highest === null ? id as number : Math.max(highest, id as number);
}
