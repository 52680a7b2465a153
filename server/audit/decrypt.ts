/**
 * `decryptAudit`: streams the verified, decrypted events of the log.
 *
 * @module
 */

import type { ChainHead, StampedEvent } from "./audit_types.ts";
import { ChainScanner } from "./chain_scanner.ts";
import { RecordDecrypter } from "./record_cipher.ts";
import { readerKeyring } from "./reader_keys.ts";

/** What to decrypt. */
export interface DecryptOptions {
  dataDir: string;
  /** Only events at or after this time. */
  since?: Date;
  /** Only events whose `customer` or `counterparty` is this name (case-insensitive). */
  user?: string;
  onProgress?: (bytesRead: number, bytesTotal: number) => void;
  /** The offline key file: without it, only the current epoch's MACs can be checked. */
  offlineKeyPath?: string;
  /** The chain head the ledger holds; detects records cut off the end. */
  ledgerHead?: ChainHead;
}

/** Totals of a finished decryption, returned by the generator. */
export interface DecryptSummary {
  /** Records read and checked (before filtering). */
  records: number;
  /** Events yielded after filtering. */
  yielded: number;
  /** Records of epochs whose MAC key was not available (older epochs without the offline key). */
  uncheckedRecords: number;
  /** Newest epoch that could not be checked, when any. */
  uncheckedEpochMax?: number;
}

/** One decrypted event, with its JSON text as one line. */
export interface DecryptedEntry {
  event: StampedEvent & { seq: number; at: string };
  /** The event as JSON without a newline: what `bank audit --decrypt` prints. */
  json: string;
}

/**
 * Streams verified, decrypted events in chain order, in bounded memory. Every record is checked
 * (sequence, epoch, chain link, MAC where a key is held, ledger head) before its event is
 * released; the generator throws at the first bad line after yielding everything before it.
 *
 * @param options Data directory, filters, progress callback, offline key and ledger head.
 * @returns The events; the generator's return value is a DecryptSummary.
 * @throws {AuditError} At the first problem, naming its file, line and code.
 */
export async function* decryptAudit(
  options: DecryptOptions,
): AsyncGenerator<StampedEvent & { seq: number; at: string }, DecryptSummary> {
  const batches = decryptAuditBatches(options);
  for (let next = await batches.next();; next = await batches.next()) {
    if (next.done) return next.value;
    for (const entry of next.value) yield entry.event;
  }
}

/**
 * Like `decryptAudit`, with each event's JSON text as well, in batches of the events of one read
 * chunk (a few hundred), so that a printer waits once per batch, not once per event.
 *
 * The text of a record whose MAC verified is the writer's `JSON.stringify` output, so it is
 * printed as decrypted, byte for byte what stringifying the parsed event again would give, without
 * that cost per record. The text of an unchecked record (an old epoch without the offline key)
 * is not the writer's for sure and is stringified again, so the output stays one line per event.
 *
 * @param options As for `decryptAudit`.
 * @returns The batches (possibly empty after filtering); the return value is a DecryptSummary.
 * @throws {AuditError} At the first problem, naming its file, line and code.
 */
export async function* decryptAuditBatches(
  options: DecryptOptions,
): AsyncGenerator<DecryptedEntry[], DecryptSummary> {
  const keyring = await readerKeyring(options);
  const scanner = new ChainScanner({
    dataDir: options.dataDir,
    keyring,
    decrypter: await RecordDecrypter.load(options.dataDir),
    ledgerHead: options.ledgerHead,
    tornTail: "reject",
    onProgress: options.onProgress,
  });
  const since = options.since?.getTime();
  const user = options.user?.toLowerCase();
  const summary: DecryptSummary = { records: 0, yielded: 0, uncheckedRecords: 0 };
  try {
    for await (const batch of scanner.batches()) {
      const entries: DecryptedEntry[] = [];
      for (const record of batch) {
        summary.records++;
        if (!record.macChecked) {
          summary.uncheckedRecords++;
          summary.uncheckedEpochMax = record.epoch;
        }
        const event = record.event as StampedEvent & { seq: number; at: string };
        if (since !== undefined && !(Date.parse(event.at) >= since)) continue;
        if (user !== undefined && !isAbout(event, user)) continue;
        const json = record.macChecked ? record.eventText! : JSON.stringify(event);
        entries.push({ event, json });
      }
      summary.yielded += entries.length;
      yield entries;
    }
  } finally {
    keyring.erase();
  }
  return summary;
}

function isAbout(event: StampedEvent, user: string): boolean {
  const { customer, counterparty } = event;
  return (typeof customer === "string" && customer.toLowerCase() === user) ||
    (typeof counterparty === "string" && counterparty.toLowerCase() === user);
}
