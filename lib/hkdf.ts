/**
 * HKDF-SHA256 (RFC 5869) through WebCrypto, for derivations made once per process (the bank's own
 * keys, the audit keys). The channel's per-handshake key schedule uses `node:crypto`'s synchronous
 * `hkdfSync` (key_schedule.ts), and the conformance tests check it against this one.
 *
 * @module
 */

import { type Bytes, utf8 } from "./bytes.ts";

/** RFC 5869 section 2.3: at most 255 blocks of output (255 * 32 bytes for SHA-256). */
const HKDF_SHA256_BYTES_MAX = 255 * 32;

/** Parameters of one HKDF derivation from a base key. */
export interface HkdfParams {
  /** Extract salt; an empty salt means HashLen zero bytes (RFC 5869 section 2.2). */
  salt: Uint8Array<ArrayBuffer>;
  /** Context label; text is encoded as UTF-8. */
  info: string | Uint8Array<ArrayBuffer>;
}

function infoBytes(info: string | Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  return typeof info === "string" ? utf8(info) : info;
}

/**
 * Imports input keying material as a base key for HKDF-SHA256.
 *
 * @param ikm The input keying material; the caller may wipe it afterwards.
 * @returns A non-extractable key usable by {@link deriveHkdfBits}.
 */
export async function importHkdfKey(ikm: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", ikm, { name: "HKDF" }, false, [
    "deriveBits",
    "deriveKey",
  ]);
}

/**
 * Runs HKDF-SHA256 (extract then expand) from a base key and returns raw bytes.
 *
 * @param baseKey From {@link importHkdfKey}.
 * @param params Salt and info.
 * @param length Output bytes, 1 to 8160.
 * @returns The output keying material.
 * @throws {RangeError} When the length is out of range.
 */
export async function deriveHkdfBits(
  baseKey: CryptoKey,
  params: HkdfParams,
  length: number,
): Promise<Bytes> {
  if (!Number.isInteger(length) || length < 1 || length > HKDF_SHA256_BYTES_MAX) {
    throw new RangeError(`HKDF length must be 1 to ${HKDF_SHA256_BYTES_MAX} bytes: got ${length}`);
  }
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: params.salt, info: infoBytes(params.info) },
    baseKey,
    length * 8,
  );
  return new Uint8Array(bits);
}

/**
 * HKDF-SHA256 in one call, in the argument order of RFC 5869.
 *
 * @example RFC 5869 test case 3 (no salt, no info)
 * ```ts
 * import { hkdfSha256 } from "./hkdf.ts";
 * import { toHex } from "./bytes.ts";
 * const okm = await hkdfSha256(new Uint8Array(22).fill(0x0b), new Uint8Array(0), "", 42);
 * if (!toHex(okm).startsWith("8da4e775")) throw new Error("unexpected");
 * ```
 *
 * @param ikm Input keying material; the caller may wipe it afterwards.
 * @param salt Extract salt; may be empty.
 * @param info Context label; text is encoded as UTF-8.
 * @param length Output bytes, 1 to 8160.
 * @returns The output keying material; the caller owns it and should wipe it after use.
 * @throws {RangeError} When the length is out of range.
 */
export async function hkdfSha256(
  ikm: Uint8Array<ArrayBuffer>,
  salt: Uint8Array<ArrayBuffer>,
  info: string | Uint8Array<ArrayBuffer>,
  length: number,
): Promise<Bytes> {
  const baseKey = await importHkdfKey(ikm);
  return await deriveHkdfBits(baseKey, { salt, info }, length);
}
