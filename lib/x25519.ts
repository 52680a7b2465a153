/**
 * X25519 key agreement (RFC 7748) through WebCrypto. Private keys stay inside non-extractable
 * `CryptoKey`s; public keys travel as 32 raw bytes.
 *
 * @module
 */

import { type Bytes, isAllZero } from "./bytes.ts";
import { X25519_KEY_BYTES } from "./constants.ts";

/** PKCS#8 prefix of a raw X25519 private key (RFC 8410 section 7): 16 bytes, then the scalar. */
const PKCS8_X25519_PREFIX = new Uint8Array([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
]);

/** Why a key agreement failed. */
export type X25519ErrorCode = "bad_public_key" | "zero_shared_secret";

/** The peer's public key is unusable: not 32 bytes, refused by WebCrypto, or of low order. */
export class X25519Error extends Error {
  /** What was wrong with the peer's key. */
  readonly code: X25519ErrorCode;

  /**
   * Creates the error.
   *
   * @param code What was wrong.
   * @param message Details for the local log.
   * @param options The underlying error, if any.
   */
  constructor(code: X25519ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "X25519Error";
    this.code = code;
  }
}

/** An ephemeral key pair. */
export interface X25519KeyPair {
  /** Non-extractable private key, for {@link x25519SharedSecret}. */
  privateKey: CryptoKey;
  /** The 32-byte public key to send to the peer. */
  publicKey: Bytes;
}

/**
 * Generates a fresh X25519 key pair.
 *
 * @returns The private key (non-extractable) and the raw public key.
 */
export async function generateX25519KeyPair(): Promise<X25519KeyPair> {
  const pair = await crypto.subtle.generateKey({ name: "X25519" }, false, [
    "deriveBits",
  ]) as CryptoKeyPair;
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey };
}

/**
 * Imports a raw 32-byte X25519 private scalar (for known-answer tests and fixed keys).
 *
 * @param scalar The 32-byte scalar; clamping is applied by X25519 itself. The caller may wipe it.
 * @returns A non-extractable private key.
 * @throws {RangeError} When the scalar is not 32 bytes.
 */
export async function importX25519PrivateKey(scalar: Uint8Array): Promise<CryptoKey> {
  if (scalar.length !== X25519_KEY_BYTES) {
    throw new RangeError(
      `X25519 private key must be ${X25519_KEY_BYTES} bytes: got ${scalar.length}`,
    );
  }
  const der = new Uint8Array(PKCS8_X25519_PREFIX.length + X25519_KEY_BYTES);
  der.set(PKCS8_X25519_PREFIX);
  der.set(scalar, PKCS8_X25519_PREFIX.length);
  try {
    return await crypto.subtle.importKey("pkcs8", der, { name: "X25519" }, false, ["deriveBits"]);
  } finally {
    der.fill(0);
  }
}

/**
 * Computes the X25519 shared secret with a peer's public key and refuses an all-zero result
 * (RFC 7748 section 6.1: a low-order peer key would make the secret predictable).
 *
 * @example Both sides agree
 * ```ts
 * import { generateX25519KeyPair, x25519SharedSecret } from "./x25519.ts";
 * import { toHex } from "./bytes.ts";
 * const a = await generateX25519KeyPair();
 * const b = await generateX25519KeyPair();
 * const ab = await x25519SharedSecret(a.privateKey, b.publicKey);
 * const ba = await x25519SharedSecret(b.privateKey, a.publicKey);
 * if (toHex(ab) !== toHex(ba)) throw new Error("unexpected");
 * ```
 *
 * @param privateKey Our private key.
 * @param peerPublicKey The peer's 32-byte public key.
 * @returns The 32-byte shared secret; the caller should wipe it after use.
 * @throws {X25519Error} When the peer key has the wrong length, is refused, or gives all zeros.
 */
export async function x25519SharedSecret(
  privateKey: CryptoKey,
  peerPublicKey: Uint8Array<ArrayBuffer>,
): Promise<Bytes> {
  if (peerPublicKey.length !== X25519_KEY_BYTES) {
    throw new X25519Error(
      "bad_public_key",
      `X25519 public key must be ${X25519_KEY_BYTES} bytes: got ${peerPublicKey.length}`,
    );
  }
  let bits: ArrayBuffer;
  try {
    const peer = await crypto.subtle.importKey("raw", peerPublicKey, { name: "X25519" }, true, []);
    bits = await crypto.subtle.deriveBits({ name: "X25519", public: peer }, privateKey, 256);
  } catch (error) {
    // WebCrypto refuses low-order points itself; the check below covers runtimes that do not.
    throw new X25519Error("bad_public_key", "X25519 public key was refused", { cause: error });
  }
  const shared = new Uint8Array(bits);
  if (isAllZero(shared)) {
    throw new X25519Error("zero_shared_secret", "X25519 shared secret is all zero");
  }
  return shared;
}
