/**
 * `decryptAudit` and `decryptAuditLines`: stream the verified, decrypted events of the log, as
 * objects or as JSON Lines.
 *
 * @module
 */

import type { ChainHead, StampedEvent } from "./audit_types.ts";
import { ChainScanner, type ScannedRecord } from "./chain_scanner.ts";
import { RecordDecrypter } from "./record_cipher.ts";
import { readerMacChecker } from "./reader_keys.ts";

const ENCODER = new TextEncoder();
const NEWLINE = 0x0a;

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
  /** Where MACs are checked: see `ReaderMacOptions.macWorker` (default: by the log's size). */
  macWorker?: boolean;
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

/**
 * Streams verified, decrypted events in chain order, in bounded memory. Every record is checked
 * (sequence, epoch, chain link, MAC where a key is held, ledger head) before its event is
 * released; the generator throws at the first bad line after yielding everything before it.
 *
 * @param options Data directory, filters, progress callback, offline key and ledger head.
 * @returns The events; the generator's return value is a DecryptSummary.
 * @throws {AuditError} At the first problem, naming its file, line and code.
 */
export function decryptAudit(
  options: DecryptOptions,
): AsyncGenerator<StampedEvent & { seq: number; at: string }, DecryptSummary> {
  return fromBatches(
    decryptedBatches(options, false),
    (records) =>
      records.map((record) => record.event as StampedEvent & { seq: number; at: string }),
  );
}

/**
 * Like `decryptAudit`, as JSON Lines: the events of each read chunk (a few hundred) as one piece
 * of UTF-8 text, one event per line, so that a printer writes once per piece.
 *
 * The line of a record whose MAC verified is its plaintext, byte for byte: the writer's
 * `JSON.stringify` output, which parsing and stringifying again would only reproduce (without
 * filters it is not parsed at all: `ScanOptions.eventsAsBytes`). The line of an unchecked record
 * (an old epoch without the offline key) is not the writer's for sure, so it is parsed, checked
 * and stringified again, and the output stays one line per event.
 *
 * @param options As for `decryptAudit`.
 * @returns The pieces (possibly empty after filtering); the return value is a DecryptSummary.
 * @throws {AuditError} At the first problem, naming its file, line and code.
 */
export function decryptAuditLines(
  options: DecryptOptions,
): AsyncGenerator<Uint8Array, DecryptSummary> {
  const filtered = options.since !== undefined || options.user !== undefined;
  return fromBatches(decryptedBatches(options, !filtered), (records) => [jsonLines(records)]);
}

/** The events of some records as JSON Lines, in one piece of UTF-8 text. */
function jsonLines(records: ScannedRecord[]): Uint8Array {
  const lines = records.map((record) =>
    record.macChecked ? record.plain! : ENCODER.encode(JSON.stringify(record.event))
  );
  const text = new Uint8Array(lines.reduce((sum, line) => sum + line.length + 1, 0));
  let at = 0;
  for (const line of lines) {
    text.set(line, at);
    text[at + line.length] = NEWLINE;
    at += line.length + 1;
  }
  return text;
}

/**
 * Yields what `each` makes of every batch and returns the scan's summary; a caller that stops
 * early ends the scan with it (`stopReading`).
 */
async function* fromBatches<T>(
  batches: AsyncGenerator<ScannedRecord[], DecryptSummary>,
  each: (records: ScannedRecord[]) => Iterable<T>,
): AsyncGenerator<T, DecryptSummary> {
  try {
    for (let next = await batches.next();; next = await batches.next()) {
      if (next.done) return next.value;
      yield* each(next.value);
    }
  } finally {
    await stopReading(batches);
  }
}

/**
 * Ends a reader whose caller stopped before its end (a `break`, or a throw while handling what it
 * gave), so that its `finally` blocks run: the log file is closed and the MAC checker with its
 * keys too (a MAC worker would otherwise keep the process alive). Harmless on a finished reader.
 *
 * @param reader One of this module's generators, read with `next()`.
 */
export async function stopReading(reader: AsyncGenerator<unknown, unknown>): Promise<void> {
  await reader.return(undefined);
}

/** The scanned records of each read chunk that pass the filters, counted into the summary. */
async function* decryptedBatches(
  options: DecryptOptions,
  eventsAsBytes: boolean,
): AsyncGenerator<ScannedRecord[], DecryptSummary> {
  const macs = await readerMacChecker(options);
  const since = options.since?.getTime();
  const user = options.user?.toLowerCase();
  const summary: DecryptSummary = { records: 0, yielded: 0, uncheckedRecords: 0 };
  try {
    const scanner = new ChainScanner({
      dataDir: options.dataDir,
      macs,
      decrypter: await RecordDecrypter.load(options.dataDir),
      eventsAsBytes,
      ledgerHead: options.ledgerHead,
      tornTail: "reject",
      onProgress: options.onProgress,
    });
    for await (const batch of scanner.batches()) {
      const kept: ScannedRecord[] = [];
      for (const record of batch) {
        summary.records++;
        if (!record.macChecked) {
          summary.uncheckedRecords++;
          summary.uncheckedEpochMax = record.epoch;
        }
        // with a filter every event is parsed (eventsAsBytes is off)
        const event = record.event as StampedEvent;
        if (since !== undefined && !(Date.parse(event.at) >= since)) continue;
        if (user !== undefined && !isAbout(event, user)) continue;
        kept.push(record);
      }
      summary.yielded += kept.length;
      yield kept;
    }
  } finally {
    macs.close();
  }
  return summary;
}

function isAbout(event: StampedEvent, user: string): boolean {
  const { customer, counterparty } = event;
  return (typeof customer === "string" && customer.toLowerCase() === user) ||
    (typeof counterparty === "string" && counterparty.toLowerCase() === user);
}
