/**
 * The one error type of the audit log. Every problem found in a log names the file and line, so an
 * operator can look at the exact record; no message ever contains key material or event contents.
 *
 * @module
 */

/** What went wrong; closed so callers can switch on it. */
export type AuditErrorCode =
  /** A record's HMAC does not verify: the record or the one before it was edited. */
  | "bad_mac"
  /** The chain does not match the head the ledger holds. */
  | "broken_chain"
  /** A sequence number is not the previous one plus one: a record was removed, added or moved. */
  | "bad_sequence"
  /** A key epoch goes backwards, jumps too far, or is newer than the key that should cover it. */
  | "bad_epoch"
  /** A line is not a well-formed record (JSON, fields, encodings, decryption). */
  | "malformed"
  /** The log ends early: a torn last line, or fewer records than the ledger head says. */
  | "truncated"
  /** A log file in the middle of the numbering is missing. */
  | "missing_file"
  /** A key file the operation needs does not exist. */
  | "missing_key"
  /** A key does not belong to this log: nothing it should cover verifies or decrypts. */
  | "wrong_key"
  /** A key file is readable or writable by group or others, or is not a regular file. */
  | "insecure_key_file"
  /** The ledger head belongs to another server. */
  | "wrong_server"
  /** Too many events were appended without a flush. */
  | "overflow"
  /** Another process holds the log's writer lock (a bank is already running on this directory). */
  | "in_use"
  /** The log was closed, or failed earlier and refuses further use. */
  | "closed"
  /** A file system operation failed. */
  | "io";

/** A problem with the audit log or its keys, with the place it was found when there is one. */
export class AuditError extends Error {
  /** Which problem. */
  readonly code: AuditErrorCode;
  /** Log or key file name (relative to the data directory for log files). */
  readonly file?: string;
  /** 1-based line number inside `file`. */
  readonly line?: number;
  /** The message without the file and line prefix. */
  readonly detail: string;

  /**
   * Creates the error.
   *
   * @param code Which problem.
   * @param message What is wrong, without secrets.
   * @param where File and line, when known, and the underlying error.
   */
  constructor(
    code: AuditErrorCode,
    message: string,
    where: { file?: string; line?: number; cause?: unknown } = {},
  ) {
    const place = where.file === undefined
      ? ""
      : where.line === undefined
      ? `${where.file}: `
      : `${where.file} line ${where.line}: `;
    super(`${place}${message}`, { cause: where.cause });
    this.name = "AuditError";
    this.code = code;
    this.detail = message;
    this.file = where.file;
    this.line = where.line;
  }
}
