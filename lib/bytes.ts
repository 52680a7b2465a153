/**
 * Byte helpers shared by the channel and the bank's audit log: concatenation, big-endian
 * integers, hex and base64url. Everything returns `Uint8Array<ArrayBuffer>`, the type WebCrypto
 * accepts.
 *
 * @module
 */

/** Largest value a u32 field holds. */
const U32_MAX = 2 ** 32 - 1;

/** Largest value a u64 field holds. */
const U64_MAX = 2n ** 64n - 1n;

/** Owned bytes in the form WebCrypto accepts. */
export type Bytes = Uint8Array<ArrayBuffer>;

/**
 * Concatenates byte arrays into one new array.
 *
 * @example Join two parts
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * const joined = concatBytes(new Uint8Array([1]), new Uint8Array([2, 3]));
 * if (joined.length !== 3 || joined[2] !== 3) throw new Error("unexpected");
 * ```
 *
 * @param parts The arrays, in order.
 * @returns A new array holding all of them.
 */
export function concatBytes(...parts: readonly Uint8Array[]): Bytes {
  let length = 0;
  for (const part of parts) length += part.length;
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

/**
 * Copies bytes into a fresh buffer that the caller owns (and may wipe).
 *
 * @param bytes The bytes to copy.
 * @returns The copy.
 */
export function copyBytes(bytes: Uint8Array): Bytes {
  return new Uint8Array(bytes);
}

/**
 * Overwrites byte arrays with zeros, so a secret does not outlive its use in this buffer.
 *
 * @param arrays The arrays to wipe.
 */
export function wipeBytes(...arrays: readonly Uint8Array[]): void {
  for (const array of arrays) array.fill(0);
}

/**
 * Tells whether every byte is zero, without an early exit on the first non-zero byte.
 *
 * @param bytes The bytes to test.
 * @returns True for an all-zero (or empty) array.
 */
export function isAllZero(bytes: Uint8Array): boolean {
  let accumulator = 0;
  for (const byte of bytes) accumulator |= byte;
  return accumulator === 0;
}

/**
 * Encodes an unsigned 32-bit integer, big-endian.
 *
 * @param value 0 to 2^32 - 1.
 * @returns 4 bytes.
 * @throws {RangeError} When the value is not an integer in range.
 */
export function u32ToBytes(value: number): Bytes {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) {
    throw new RangeError(`Value must be an integer from 0 to ${U32_MAX}: got ${value}`);
  }
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value, false);
  return bytes;
}

/**
 * Decodes an unsigned 32-bit big-endian integer.
 *
 * @param bytes The array to read from.
 * @param offset Where the 4 bytes start.
 * @returns The value.
 * @throws {RangeError} When fewer than 4 bytes follow the offset.
 */
export function bytesToU32(bytes: Uint8Array, offset = 0): number {
  if (offset < 0 || offset + 4 > bytes.length) {
    throw new RangeError(`Need 4 bytes at offset ${offset}: got ${bytes.length} bytes in all`);
  }
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, false);
}

/**
 * Encodes an unsigned 64-bit integer, big-endian.
 *
 * @example Encode a sequence number
 * ```ts
 * import { toHex, u64ToBytes } from "./bytes.ts";
 * if (toHex(u64ToBytes(258)) !== "0000000000000102") throw new Error("unexpected");
 * ```
 *
 * @param value 0 to 2^64 - 1, as a safe integer or a bigint.
 * @returns 8 bytes.
 * @throws {RangeError} When the value is negative, too large, or an unsafe number.
 */
export function u64ToBytes(value: number | bigint): Bytes {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new RangeError(`Value must be a safe integer or a bigint: got ${value}`);
  }
  const big = BigInt(value);
  if (big < 0n || big > U64_MAX) {
    throw new RangeError(`Value must be from 0 to 2^64 - 1: got ${big}`);
  }
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, big, false);
  return bytes;
}

/**
 * Encodes bytes as lowercase hex.
 *
 * @param bytes The bytes.
 * @returns Two hex digits per byte.
 */
export function toHex(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += byte.toString(16).padStart(2, "0");
  return text;
}

/**
 * Decodes hex (either case).
 *
 * @param text An even number of hex digits.
 * @returns The bytes.
 * @throws {SyntaxError} When the text is not hex (the text itself is not echoed: it may be a key).
 */
export function fromHex(text: string): Bytes {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new SyntaxError(
      `Hex text must be an even number of hex digits: got ${text.length} chars`,
    );
  }
  const bytes = new Uint8Array(text.length / 2);
  for (let index = 0; index < bytes.length; index++) {
    bytes[index] = parseInt(text.slice(index * 2, index * 2 + 2), 16);
  }
  return bytes;
}

/**
 * Encodes bytes as base64url without padding (RFC 4648 section 5).
 *
 * @param bytes The bytes.
 * @returns The text.
 */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Decodes canonical base64url without padding. Non-canonical text (stray bits in the last
 * character) is refused so that one value has exactly one spelling.
 *
 * @example Round trip
 * ```ts
 * import { fromBase64Url, toBase64Url } from "./bytes.ts";
 * const text = toBase64Url(new Uint8Array([251, 255]));
 * if (text !== "-_8" || fromBase64Url(text)[1] !== 255) throw new Error("unexpected");
 * ```
 *
 * @param text base64url characters, no `=` padding.
 * @returns The bytes.
 * @throws {SyntaxError} When the text is not canonical base64url (the text is not echoed).
 */
export function fromBase64Url(text: string): Bytes {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new SyntaxError(`Text is not unpadded base64url: ${text.length} chars`);
  }
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  if (toBase64Url(bytes) !== text) {
    throw new SyntaxError(`Text is not canonical base64url: ${text.length} chars`);
  }
  return bytes;
}

/**
 * Encodes text as UTF-8.
 *
 * @param text The text.
 * @returns Its UTF-8 bytes.
 */
export function utf8(text: string): Bytes {
  return new TextEncoder().encode(text) as Bytes;
}
