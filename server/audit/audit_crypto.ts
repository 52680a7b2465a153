/**
 * Thin WebCrypto wrappers for the audit log: HKDF-SHA256, HMAC-SHA256, AES-256-CBC, and canonical
 * base64url. Keys are imported non-extractable so a heap dump of a CryptoKey yields nothing.
 *
 * Hazard: AES-CBC is unauthenticated. Nothing decrypted here is trusted until its record's HMAC
 * has verified; callers issue both calls together but release plaintext only after the MAC.
 *
 * @module
 */

import { IV_BYTES, KEY_BYTES, MAC_BYTES } from "./constants.ts";

/** Bytes WebCrypto accepts under TypeScript 6. */
export type Bytes = Uint8Array<ArrayBuffer>;

const ENCODER = new TextEncoder();

/**
 * Derives key material with HKDF-SHA256 (RFC 5869) and an empty salt: every input is already a
 * uniformly random 256-bit key, so extraction needs no salt (RFC 5869 section 3.1).
 *
 * @param ikm The input key material, 32 bytes.
 * @param info The context label.
 * @returns 32 derived bytes; the caller zeroes them after use.
 */
export async function hkdfSha256(ikm: Bytes, info: string): Promise<Bytes> {
  if (ikm.length !== KEY_BYTES) {
    throw new RangeError(`Expected a ${KEY_BYTES}-byte key, got ${ikm.length}`);
  }
  const base = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: ENCODER.encode(info) },
    base,
    KEY_BYTES * 8,
  );
  return new Uint8Array(bits);
}

/**
 * Imports an HMAC-SHA256 key, non-extractable.
 *
 * @param raw 32 key bytes.
 * @returns A key for sign and verify.
 */
export function importMacKey(raw: Bytes): Promise<CryptoKey> {
  if (raw.length !== KEY_BYTES) {
    throw new RangeError(`Expected a ${KEY_BYTES}-byte key, got ${raw.length}`);
  }
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

/**
 * Imports an AES-256-CBC key, non-extractable.
 *
 * @param raw 32 key bytes.
 * @returns A key for encrypt and decrypt.
 */
export function importCipherKey(raw: Bytes): Promise<CryptoKey> {
  if (raw.length !== KEY_BYTES) {
    throw new RangeError(`Expected a ${KEY_BYTES}-byte key, got ${raw.length}`);
  }
  return crypto.subtle.importKey("raw", raw, { name: "AES-CBC", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
}

/**
 * Computes HMAC-SHA256.
 *
 * @param key The HMAC key.
 * @param data The bytes to authenticate.
 * @returns The 32-byte tag.
 */
export async function hmacSign(key: CryptoKey, data: Bytes): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
}

/**
 * Checks an HMAC-SHA256 tag in constant time (WebCrypto compares, not JavaScript).
 *
 * @param key The HMAC key.
 * @param tag The stored tag.
 * @param data The bytes it should cover.
 * @returns Whether it verifies.
 */
export function hmacVerify(key: CryptoKey, tag: Bytes, data: Bytes): Promise<boolean> {
  if (tag.length !== MAC_BYTES) return Promise.resolve(false);
  return crypto.subtle.verify("HMAC", key, tag, data);
}

/**
 * Encrypts with AES-256-CBC and PKCS#7 padding.
 *
 * @param key The cipher key.
 * @param iv A fresh random 16-byte IV, never reused with this key.
 * @param plaintext The bytes to hide.
 * @returns The ciphertext, a non-zero multiple of 16 bytes.
 */
export async function cbcEncrypt(key: CryptoKey, iv: Bytes, plaintext: Bytes): Promise<Bytes> {
  if (iv.length !== IV_BYTES) {
    throw new RangeError(`Expected a ${IV_BYTES}-byte IV, got ${iv.length}`);
  }
  return new Uint8Array(await crypto.subtle.encrypt({ name: "AES-CBC", iv }, key, plaintext));
}

/**
 * Decrypts AES-256-CBC. Verify the record's MAC before trusting the result.
 *
 * @param key The cipher key.
 * @param iv The record's IV.
 * @param ciphertext The record's ciphertext.
 * @returns The plaintext, or null when the padding is wrong (a wrong key or edited bytes).
 */
export async function cbcDecrypt(
  key: CryptoKey,
  iv: Bytes,
  ciphertext: Bytes,
): Promise<Bytes | null> {
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-CBC", iv }, key, ciphertext));
  } catch {
    return null; // one answer for every failure: the cause is not the caller's business
  }
}

/**
 * Encodes base64url without padding (RFC 4648 section 5).
 *
 * @param bytes The bytes.
 * @returns The text.
 */
export function toBase64Url(bytes: Bytes): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/** The alphabet of base64url (RFC 4648 section 5), in value order. */
const BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** The 6-bit value of each ASCII character in base64url, -1 for characters outside it. */
const BASE64URL_VALUES = Int8Array.from(
  { length: 128 },
  (_, code) => BASE64URL_ALPHABET.indexOf(String.fromCharCode(code)),
);

/**
 * Decodes canonical unpadded base64url: no padding, no whitespace, and zero unused bits in the last
 * character, so every byte string has exactly one accepted text and no edit of the text goes
 * unnoticed.
 *
 * The native decoder rejects characters outside the alphabet; it skips whitespace and accepts
 * padding, either of which leaves fewer bytes than the text's length allows, so the length check
 * catches both. Readers decode three fields per record, so this avoids a regular expression and a
 * re-encoding per field.
 *
 * @param text The text.
 * @returns The bytes, or null when the text is not canonical base64url.
 */
export function fromBase64Url(text: string): Bytes | null {
  const rest = text.length % 4;
  if (rest === 1) return null;
  let bytes: Bytes;
  try {
    bytes = Uint8Array.fromBase64(text, { alphabet: "base64url" });
  } catch {
    return null;
  }
  const expected = Math.floor(text.length / 4) * 3 + (rest === 0 ? 0 : rest - 1);
  if (bytes.length !== expected) return null;
  if (rest === 0) return bytes;
  // 2 trailing characters carry 12 bits for 1 byte, 3 carry 18 bits for 2: the rest must be 0.
  const last = BASE64URL_VALUES[text.charCodeAt(text.length - 1)] ?? -1;
  const unusedBits = rest === 2 ? 0x0f : 0x03;
  return last >= 0 && (last & unusedBits) === 0 ? bytes : null;
}

/**
 * Fills a fresh buffer with random bytes.
 *
 * @param length How many.
 * @returns The bytes.
 */
export function randomBytes(length: number): Bytes {
  return crypto.getRandomValues(new Uint8Array(length));
}
