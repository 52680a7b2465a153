/**
 * One audit record as a line of the log, and the exact bytes its HMAC covers.
 *
 * A line is `{"seq":N,"epoch":E,"iv":B64,"ct":B64,"mac":B64}` and a newline, where B64 is
 * canonical unpadded base64url. The MAC input is, in this order:
 *
 * | bytes | field |
 * | --- | --- |
 * | 18 | ASCII `bank-audit-line-v1` (domain separation) |
 * | 8 | seq, unsigned big-endian |
 * | 4 | epoch, unsigned big-endian |
 * | 16 | IV |
 * | 4 | ciphertext length in bytes, unsigned big-endian |
 * | n | ciphertext |
 * | 32 | the previous record's MAC as stored (32 zero bytes before the first record) |
 *
 * Fixed widths and the length prefix make the encoding injective: no two different records
 * share a MAC input.
 *
 * @module
 */

import { type Bytes, fromBase64Url, toBase64Url } from "./audit_crypto.ts";
import { isEpoch } from "./audit_keys.ts";
import { EVENT_BYTES_MAX, IV_BYTES, MAC_BYTES, MAC_LABEL } from "./constants.ts";

/** One record as stored. */
export interface LogRecord {
  seq: number;
  epoch: number;
  iv: Bytes;
  ct: Bytes;
  mac: Bytes;
  /** The MAC as it appears in the line (and in a chain head). */
  macText: string;
}

/** What precedes the first record in the chain. */
export const GENESIS_MAC: Bytes = new Uint8Array(MAC_BYTES);

/** Largest ciphertext of one record: the largest event plus a full padding block. */
const CIPHERTEXT_BYTES_MAX = EVENT_BYTES_MAX + IV_BYTES;

const LABEL_BYTES = new TextEncoder().encode(MAC_LABEL);
const FIELD_COUNT = 5;

/**
 * Builds the bytes a record's MAC covers.
 *
 * @param record Sequence number, epoch, IV and ciphertext.
 * @param previousMac The previous record's stored MAC, or GENESIS_MAC.
 * @returns The MAC input.
 */
export function macInput(
  record: { seq: number; epoch: number; iv: Bytes; ct: Bytes },
  previousMac: Bytes,
): Bytes {
  if (record.iv.length !== IV_BYTES) throw new RangeError(`Expected a ${IV_BYTES}-byte IV`);
  if (previousMac.length !== MAC_BYTES) throw new RangeError(`Expected a ${MAC_BYTES}-byte MAC`);
  const out = new Uint8Array(
    LABEL_BYTES.length + 8 + 4 + IV_BYTES + 4 + record.ct.length + MAC_BYTES,
  );
  const view = new DataView(out.buffer);
  let at = 0;
  out.set(LABEL_BYTES, at);
  at += LABEL_BYTES.length;
  view.setBigUint64(at, BigInt(record.seq));
  at += 8;
  view.setUint32(at, record.epoch);
  at += 4;
  out.set(record.iv, at);
  at += IV_BYTES;
  view.setUint32(at, record.ct.length);
  at += 4;
  out.set(record.ct, at);
  at += record.ct.length;
  out.set(previousMac, at);
  return out;
}

/**
 * Writes a record as one line, newline included.
 *
 * @param record The record (its `macText` is ignored and recomputed from `mac`).
 * @returns The line.
 */
export function formatRecordLine(record: Omit<LogRecord, "macText">): string {
  return `{"seq":${record.seq},"epoch":${record.epoch},"iv":"${toBase64Url(record.iv)}",` +
    `"ct":"${toBase64Url(record.ct)}","mac":"${toBase64Url(record.mac)}"}\n`;
}

/**
 * Parses one line (without its newline) strictly: exactly the five fields, each well-formed, in
 * exactly the layout `formatRecordLine` writes.
 *
 * @param text The line.
 * @returns The record, or a sentence saying what is wrong with it.
 */
export function parseRecordLine(text: string): LogRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "Line is not JSON";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "Line is not a JSON object";
  }
  const fields = value as Record<string, unknown>;
  if (Object.keys(fields).length !== FIELD_COUNT) {
    return "Record must have exactly seq, epoch, iv, ct, mac";
  }
  const { seq, epoch, iv, ct, mac } = fields;
  if (!Number.isSafeInteger(seq) || (seq as number) < 1) {
    return "Field seq is not a positive integer";
  }
  if (!isEpoch(epoch)) return "Field epoch is not a valid epoch number";
  if (typeof iv !== "string" || typeof ct !== "string" || typeof mac !== "string") {
    return "Fields iv, ct and mac must be base64url strings";
  }
  const ivBytes = fromBase64Url(iv);
  if (ivBytes === null || ivBytes.length !== IV_BYTES) {
    return `Field iv is not ${IV_BYTES} bytes of base64url`;
  }
  const ctBytes = fromBase64Url(ct);
  if (
    ctBytes === null || ctBytes.length === 0 || ctBytes.length % IV_BYTES !== 0 ||
    ctBytes.length > CIPHERTEXT_BYTES_MAX
  ) {
    return "Field ct is not an AES-CBC ciphertext in base64url";
  }
  const macBytes = fromBase64Url(mac);
  if (macBytes === null || macBytes.length !== MAC_BYTES) {
    return `Field mac is not ${MAC_BYTES} bytes of base64url`;
  }
  const record = { seq: seq as number, epoch, iv: ivBytes, ct: ctBytes, mac: macBytes };
  // The MAC covers the values, not the layout; requiring the one canonical layout makes every
  // byte of the file significant (no added spaces, reordered or repeated fields, escapes).
  if (formatRecordLine(record) !== `${text}\n`) return "Line is not in the canonical record layout";
  return { ...record, macText: mac };
}

/** Characters of a line besides its five values. */
const LINE_FIXED_BYTES = '{"seq":,"epoch":,"iv":"","ct":"","mac":""}\n'.length;

function base64UrlLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}

/**
 * Length of a record's line, known before its MAC is computed (the writer rotates on it).
 *
 * @param record Sequence number, epoch and ciphertext length.
 * @returns The line's length in bytes, newline included.
 */
export function recordLineBytes(record: { seq: number; epoch: number; ctBytes: number }): number {
  return LINE_FIXED_BYTES + String(record.seq).length + String(record.epoch).length +
    base64UrlLength(IV_BYTES) + base64UrlLength(record.ctBytes) + base64UrlLength(MAC_BYTES);
}
