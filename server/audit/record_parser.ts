/**
 * The readers' fast path: takes a record line apart straight from the bytes read, without building
 * a string or a JSON object, and decodes its base64url fields directly into the bytes its MAC
 * covers (`record_format.ts` lays them out).
 *
 * It accepts exactly the canonical layout `formatRecordLine` writes, character for character, and
 * nothing else: any line it refuses goes to `parseRecordLine`, the reference, which either names
 * what is wrong or (should this parser ever be stricter than needed) accepts it. So this file can
 * make a reader faster but never more lenient.
 *
 * Why: with JSON.parse, three native base64url decodes and a re-encoding of the line to check its
 * layout, parsing took about half of `bank audit --verify` (docs/performance.md).
 *
 * @module
 */

import type { Bytes } from "./audit_crypto.ts";
import {
  EPOCH_MAX,
  EVENT_BYTES_MAX,
  IV_BYTES,
  MAC_BYTES,
  MAC_LABEL,
  RECORD_SLAB_BYTES,
} from "./constants.ts";

/** One record taken apart, with the bytes its MAC covers. */
export interface RecordView {
  seq: number;
  epoch: number;
  /**
   * The MAC input of `record_format.ts`, except for its last MAC_BYTES: the previous record's MAC,
   * which the reader fills in (it is not on this line).
   */
  macInput: Bytes;
  /** Views into `macInput`. */
  iv: Bytes;
  ct: Bytes;
  /** The stored MAC (a view into the same buffer as `macInput`, after it). */
  mac: Bytes;
}

/** Largest ciphertext of one record: the largest event plus a full padding block. */
const CIPHERTEXT_BYTES_MAX = EVENT_BYTES_MAX + IV_BYTES;

const ENCODER = new TextEncoder();
const LABEL = ENCODER.encode(MAC_LABEL);

/** The fixed text around the values, in line order. */
const SEQ_OPEN = ENCODER.encode('{"seq":');
const EPOCH_OPEN = ENCODER.encode(',"epoch":');
const IV_OPEN = ENCODER.encode(',"iv":"');
const CT_OPEN = ENCODER.encode('","ct":"');
const MAC_OPEN = ENCODER.encode('","mac":"');
const LINE_CLOSE = ENCODER.encode('"}');

/** Offsets in the MAC input (see record_format.ts). */
const SEQ_AT = LABEL.length;
const EPOCH_AT = SEQ_AT + 8;
const IV_AT = EPOCH_AT + 4;
const CT_LENGTH_AT = IV_AT + IV_BYTES;
const CT_AT = CT_LENGTH_AT + 4;

/** Characters of a base64url IV and MAC without padding. */
const IV_CHARS = Math.ceil((IV_BYTES * 4) / 3);
const MAC_CHARS = Math.ceil((MAC_BYTES * 4) / 3);

/** Digits of the largest safe integer: a longer seq is refused before it is summed. */
const SEQ_DIGITS_MAX = String(Number.MAX_SAFE_INTEGER).length;
const EPOCH_DIGITS_MAX = String(EPOCH_MAX).length;

const DIGIT_0 = 0x30;
const QUOTE = 0x22;

/** The 6-bit value of each byte as a base64url character (RFC 4648 section 5), -1 otherwise. */
const BASE64URL_VALUES = (() => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const values = new Int8Array(256).fill(-1);
  for (let i = 0; i < alphabet.length; i++) values[alphabet.charCodeAt(i)] = i;
  return values;
})();

/**
 * Hands out the bytes of parsed records from larger slabs of RECORD_SLAB_BYTES. Why: a typed array
 * with memory of its own costs about as much to allocate (and later to collect) as parsing the
 * whole line; a view into a slab costs a fraction. A slab lives as long as any record in it, so
 * a reader keeping a few records keeps a few slabs; the bytes are public (IV, ciphertext, MACs).
 */
export class RecordSlab {
  readonly #shared: boolean;
  #slab = new Uint8Array(0);
  #at = 0;

  /**
   * Creates an empty slab allocator.
   *
   * @param shared Take the slabs from shared memory, for a MAC worker to read the records in
   * place (mac_worker_client.ts).
   */
  constructor(shared = false) {
    this.#shared = shared;
  }

  /**
   * Takes zeroed bytes.
   *
   * @param bytes How many.
   * @returns A view of its own part of a slab.
   */
  take(bytes: number): Bytes {
    if (this.#at + bytes > this.#slab.length) {
      const size = Math.max(RECORD_SLAB_BYTES, bytes);
      // a shared slab is typed as an ordinary one: every reader of its bytes accepts both
      this.#slab = this.#shared
        ? new Uint8Array(new SharedArrayBuffer(size)) as unknown as Bytes
        : new Uint8Array(size);
      this.#at = 0;
    }
    const out = this.#slab.subarray(this.#at, this.#at + bytes);
    this.#at += bytes;
    return out;
  }
}

/**
 * Takes apart one line in the canonical record layout.
 *
 * @param line The bytes holding the line.
 * @param start Where the line starts.
 * @param end Where it ends (its newline, or the end of the bytes), exclusive.
 * @param slab Where the record's bytes are taken from.
 * @returns The record, or null when the line is not exactly in the canonical layout.
 */
export function parseCanonicalRecord(
  line: Uint8Array,
  start: number,
  end: number,
  slab: RecordSlab,
): RecordView | null {
  const seqStart = expect(line, start, end, SEQ_OPEN);
  const seqEnd = digitsEnd(line, seqStart, end, SEQ_DIGITS_MAX);
  if (seqEnd < 0) return null;
  const seq = decimal(line, seqStart, seqEnd);
  if (seq < 1 || !Number.isSafeInteger(seq)) return null;

  const epochStart = expect(line, seqEnd, end, EPOCH_OPEN);
  const epochEnd = digitsEnd(line, epochStart, end, EPOCH_DIGITS_MAX);
  if (epochEnd < 0) return null;
  const epoch = decimal(line, epochStart, epochEnd);
  if (epoch > EPOCH_MAX) return null;

  const ivStart = expect(line, epochEnd, end, IV_OPEN);
  if (ivStart < 0) return null;
  const ivEnd = ivStart + IV_CHARS;
  const ctStart = expect(line, ivEnd, end, CT_OPEN);
  const ctEnd = quoteAt(line, ctStart, end);
  const macStart = expect(line, ctEnd, end, MAC_OPEN);
  if (macStart < 0) return null;
  const macEnd = macStart + MAC_CHARS;
  if (expect(line, macEnd, end, LINE_CLOSE) !== end) return null;

  const ctBytes = decodedLength(ctEnd - ctStart);
  if (ctBytes <= 0 || ctBytes % IV_BYTES !== 0 || ctBytes > CIPHERTEXT_BYTES_MAX) return null;
  const macInputBytes = CT_AT + ctBytes + MAC_BYTES;
  const buffer = slab.take(macInputBytes + MAC_BYTES);
  if (
    !decodeInto(line, ivStart, ivEnd, buffer, IV_AT) ||
    !decodeInto(line, ctStart, ctEnd, buffer, CT_AT) ||
    !decodeInto(line, macStart, macEnd, buffer, macInputBytes)
  ) {
    return null;
  }
  buffer.set(LABEL, 0);
  writeU32(buffer, SEQ_AT, Math.floor(seq / 2 ** 32));
  writeU32(buffer, SEQ_AT + 4, seq >>> 0);
  writeU32(buffer, EPOCH_AT, epoch);
  writeU32(buffer, CT_LENGTH_AT, ctBytes);
  return {
    seq,
    epoch,
    macInput: buffer.subarray(0, macInputBytes),
    iv: buffer.subarray(IV_AT, IV_AT + IV_BYTES),
    ct: buffer.subarray(CT_AT, CT_AT + ctBytes),
    mac: buffer.subarray(macInputBytes),
  };
}

function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

/** Position after `text` when the line continues with it at `at`, else -1 (never matches). */
function expect(line: Uint8Array, at: number, end: number, text: Uint8Array): number {
  if (at < 0 || at + text.length > end) return -1;
  for (let i = 0; i < text.length; i++) if (line[at + i] !== text[i]) return -1;
  return at + text.length;
}

/**
 * End of the decimal number at `at` written as `String(n)` writes it: 1 to `digitsMax` digits,
 * no leading zero except "0" itself; -1 otherwise.
 */
function digitsEnd(line: Uint8Array, at: number, end: number, digitsMax: number): number {
  if (at < 0) return -1;
  let i = at;
  while (i < end && i - at <= digitsMax && line[i] - DIGIT_0 >>> 0 <= 9) i++;
  const digits = i - at;
  if (digits === 0 || digits > digitsMax) return -1;
  if (digits > 1 && line[at] === DIGIT_0) return -1;
  return i;
}

/** The value of the digits from `at` to `end`. */
function decimal(line: Uint8Array, at: number, end: number): number {
  let value = 0;
  for (let i = at; i < end; i++) value = value * 10 + (line[i] - DIGIT_0);
  return value;
}

/** Position of the next `"` from `at`, or -1. */
function quoteAt(line: Uint8Array, at: number, end: number): number {
  if (at < 0) return -1;
  const found = line.indexOf(QUOTE, at);
  return found < 0 || found >= end ? -1 : found;
}

/** Bytes that `chars` characters of unpadded base64url hold; -1 for an impossible length. */
function decodedLength(chars: number): number {
  const rest = chars % 4;
  if (rest === 1) return -1;
  return Math.floor(chars / 4) * 3 + (rest === 0 ? 0 : rest - 1);
}

/**
 * Decodes canonical unpadded base64url from `line[start..end)` into `out` at `at`: only alphabet
 * characters, and zero unused bits in the last one, so each byte string has one accepted text.
 *
 * @returns False when the text is not canonical base64url.
 */
function decodeInto(
  line: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  at: number,
): boolean {
  const values = BASE64URL_VALUES;
  let i = start;
  let o = at;
  for (; i + 4 <= end; i += 4) {
    const a = values[line[i]], b = values[line[i + 1]];
    const c = values[line[i + 2]], d = values[line[i + 3]];
    if ((a | b | c | d) < 0) return false;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >>> 16;
    out[o++] = (n >>> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  const rest = end - i;
  if (rest === 0) return true;
  if (rest === 1) return false;
  const a = values[line[i]], b = values[line[i + 1]];
  const c = rest === 3 ? values[line[i + 2]] : 0;
  if ((a | b | c) < 0) return false;
  // 2 trailing characters carry 12 bits for 1 byte, 3 carry 18 bits for 2: the rest must be 0
  if (rest === 2 ? (b & 0x0f) !== 0 : (c & 0x03) !== 0) return false;
  out[o++] = (a << 2) | (b >>> 4);
  if (rest === 3) out[o] = ((b & 0x0f) << 4) | (c >>> 2);
  return true;
}
