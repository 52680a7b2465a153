/**
 * `verifyAudit`: checks the whole log without printing events and summarises it.
 *
 * @module
 */

import { AuditError } from "./audit_error.ts";
import type { ChainHead } from "./audit_types.ts";
import { ChainScanner, decodeEvent, type ScannedRecord } from "./chain_scanner.ts";
import { errorText } from "./key_file.ts";
import type { RecordDecrypter } from "./record_cipher.ts";
import { optionalDecrypter, readerMacChecker } from "./reader_keys.ts";

/** A problem a check found; `line` is 0 when it is not about one line (a key file, a file). */
export interface AuditProblem {
  /** Log or key file name, "" when none. */
  file: string;
  line: number;
  /** An AuditErrorCode, or "io" for any other failure. */
  code: string;
  /** What is wrong, without the file and line prefix. */
  message: string;
}

/** The outcome of a verification. */
export interface VerifyReport {
  /** True when no problem was found (see `uncheckedRecords` for what could not be checked). */
  ok: boolean;
  /** Records that passed every check, in order, before any problem. */
  records: number;
  files: number;
  /** Time of the first and last record (present when the master key was available). */
  firstAt?: string;
  lastAt?: string;
  /** Distinct key epochs among the records. */
  epochs: number;
  firstEpoch?: number;
  lastEpoch?: number;
  /** Records whose MAC could not be checked: older epochs, without the offline key. */
  uncheckedRecords: number;
  /** Whether the offline key was used (every epoch checkable). */
  offlineKey: boolean;
  /** The first problem. */
  problem?: AuditProblem;
}

/** What to verify. */
export interface VerifyOptions {
  dataDir: string;
  /** The offline key file: with it, every epoch's MACs are checked. */
  offlineKeyPath?: string;
  /** The chain head the ledger holds; detects records cut off the end. */
  ledgerHead?: ChainHead;
  onProgress?: (bytesRead: number, bytesTotal: number) => void;
  /** Where MACs are checked: see `ReaderMacOptions.macWorker` (default: by the log's size). */
  macWorker?: boolean;
}

/**
 * Checks every record in order: syntax, sequence, epochs, chain links, the MACs of every epoch it
 * holds keys for, and the ledger head. Reads line by line in bounded memory. Never throws for a
 * problem in the log or its keys: it is reported.
 *
 * @param options The data directory, offline key, ledger head, and a progress callback.
 * @returns The summary, with the first problem if any.
 */
export async function verifyAudit(options: VerifyOptions): Promise<VerifyReport> {
  const report: VerifyReport = {
    ok: false,
    records: 0,
    files: 0,
    epochs: 0,
    uncheckedRecords: 0,
    offlineKey: options.offlineKeyPath !== undefined,
  };
  let first: ScannedRecord | undefined;
  let last: ScannedRecord | undefined;
  let decrypter: RecordDecrypter | null = null;
  try {
    const macs = await readerMacChecker(options);
    const scanner = new ChainScanner({
      dataDir: options.dataDir,
      macs,
      ledgerHead: options.ledgerHead,
      tornTail: "reject",
      onProgress: options.onProgress,
    });
    try {
      decrypter = await optionalDecrypter(options.dataDir);
      for await (const batch of scanner.batches()) {
        for (const record of batch) {
          first ??= record;
          last = record;
          report.records++;
          if (!record.macChecked) report.uncheckedRecords++;
          report.epochs += record.epoch === report.lastEpoch ? 0 : 1;
          report.firstEpoch ??= record.epoch;
          report.lastEpoch = record.epoch;
        }
      }
    } finally {
      report.files = scanner.summary.files;
      macs.close();
    }
  } catch (error) {
    report.problem = describeAuditProblem(error);
  }
  // the span covers the records that passed, also when a problem came after them
  if (decrypter !== null && first !== undefined && last !== undefined) {
    try {
      report.firstAt = recordTime(decrypter, first);
      report.lastAt = recordTime(decrypter, last);
    } catch (error) {
      report.problem ??= describeAuditProblem(error);
    }
  }
  report.ok = report.problem === undefined;
  return report;
}

function recordTime(decrypter: RecordDecrypter, record: ScannedRecord): string {
  const event = decodeEvent(record, decrypter.decrypt(record.iv, record.ct));
  return event.at as string;
}

/**
 * Turns what a check threw into the problem it reports: an AuditError keeps its code and place,
 * anything else is an "io" problem with its message.
 *
 * @param error What was thrown.
 * @returns The problem.
 */
export function describeAuditProblem(error: unknown): AuditProblem {
  if (error instanceof AuditError) {
    return {
      file: error.file ?? "",
      line: error.line ?? 0,
      code: error.code,
      message: error.detail,
    };
  }
  return { file: "", line: 0, code: "io", message: errorText(error) };
}
