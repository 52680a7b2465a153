/**
 * HMAC-SHA256 (RFC 2104) through WebCrypto. Keys are imported non-extractable, so the raw key
 * cannot be read back out of the `CryptoKey`; verification goes through `crypto.subtle.verify`,
 * which compares in constant time. The channel itself uses the synchronous hmac_state.ts; this
 * module is the independent implementation the conformance tests check it against.
 *
 * @module
 */

import type { Bytes } from "./bytes.ts";

const HMAC_SHA256 = { name: "HMAC", hash: "SHA-256" } as const;

/**
 * Imports raw bytes as a non-extractable HMAC-SHA256 key.
 *
 * @param keyBytes The key; any length (RFC 2104 hashes keys longer than the block). The caller
 * may wipe it afterwards.
 * @returns A key for `sign` and `verify`.
 * @throws {RangeError} On an empty key.
 */
export async function importHmacSha256Key(keyBytes: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  if (keyBytes.length === 0) throw new RangeError("HMAC key must not be empty");
  return await crypto.subtle.importKey("raw", keyBytes, HMAC_SHA256, false, ["sign", "verify"]);
}

/**
 * Computes HMAC-SHA256.
 *
 * @example RFC 4231 test case 2
 * ```ts
 * import { hmacSha256 } from "./hmac.ts";
 * import { toHex, utf8 } from "./bytes.ts";
 * const tag = await hmacSha256(utf8("Jefe"), utf8("what do ya want for nothing?"));
 * if (!toHex(tag).startsWith("5bdcc146")) throw new Error("unexpected");
 * ```
 *
 * @param key A key from {@link importHmacSha256Key}, or raw key bytes to import for this call.
 * @param data The message.
 * @returns The 32-byte tag.
 */
export async function hmacSha256(
  key: CryptoKey | Uint8Array<ArrayBuffer>,
  data: Uint8Array<ArrayBuffer>,
): Promise<Bytes> {
  const cryptoKey = key instanceof CryptoKey ? key : await importHmacSha256Key(key);
  return new Uint8Array(await crypto.subtle.sign(HMAC_SHA256, cryptoKey, data));
}

/**
 * Checks an HMAC-SHA256 tag in constant time (WebCrypto compares the full tag).
 *
 * @param key A key from {@link importHmacSha256Key}.
 * @param tag The tag that came with the message.
 * @param data The message.
 * @returns True when the tag is right. A tag of the wrong length is simply wrong.
 */
export async function verifyHmacSha256(
  key: CryptoKey,
  tag: Uint8Array<ArrayBuffer>,
  data: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  return await crypto.subtle.verify(HMAC_SHA256, key, tag, data);
}
