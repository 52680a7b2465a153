/**
 * X25519 key agreement (RFC 7748) through `node:crypto`, synchronously. Private keys stay inside
 * native `KeyObject`s that this code never exports; public keys travel as 32 raw bytes.
 *
 * Why not WebCrypto: a key pair, its export, the peer key's import and the agreement cost four
 * `crypto.subtle` calls, about 420 µs per handshake side against about 110 µs here
 * (docs/performance.md).
 *
 * @module
 */

import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { Buffer } from "node:buffer";
import { type Bytes, fromHex, isAllZero } from "./bytes.ts";
import { X25519_KEY_BYTES } from "./constants.ts";

/** PKCS#8 prefix of a raw X25519 private key (RFC 8410 section 7): 16 bytes, then the scalar. */
const PKCS8_X25519_PREFIX = fromHex("302e020100300506032b656e04220420");

/** SubjectPublicKeyInfo prefix of a raw X25519 public key (RFC 8410 section 4): 12 bytes, then the key. */
const SPKI_X25519_PREFIX = fromHex("302a300506032b656e032100");

/** Why a key agreement failed. */
export type X25519ErrorCode = "bad_public_key" | "zero_shared_secret";

/** The peer's public key is unusable: not 32 bytes, refused by the agreement, or of low order. */
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

/** An X25519 private key, held natively. */
export type X25519PrivateKey = KeyObject;

/** An ephemeral key pair. */
export interface X25519KeyPair {
  /** The private key, for {@link x25519SharedSecret}; never exported. */
  privateKey: X25519PrivateKey;
  /** The 32-byte public key to send to the peer. */
  publicKey: Bytes;
}

/** Wraps raw key bytes in the DER structure `node:crypto` imports. */
function withPrefix(prefix: Uint8Array, raw: Uint8Array): Bytes {
  const der = new Uint8Array(prefix.length + X25519_KEY_BYTES);
  der.set(prefix);
  der.set(raw, prefix.length);
  return der;
}

/**
 * Generates a fresh X25519 key pair.
 *
 * @returns The private key and the raw public key.
 */
export function generateX25519KeyPair(): X25519KeyPair {
  const pair = generateKeyPairSync("x25519");
  const spki = pair.publicKey.export({ type: "spki", format: "der" });
  const prefix = spki.subarray(0, SPKI_X25519_PREFIX.length);
  if (
    spki.length !== SPKI_X25519_PREFIX.length + X25519_KEY_BYTES ||
    !prefix.every((byte, i) => byte === SPKI_X25519_PREFIX[i])
  ) {
    throw new Error("node:crypto exported an X25519 public key in an unexpected encoding");
  }
  const publicKey = new Uint8Array(spki.subarray(SPKI_X25519_PREFIX.length));
  return { privateKey: pair.privateKey, publicKey };
}

/**
 * Imports a raw 32-byte X25519 private scalar (for known-answer tests and fixed keys).
 *
 * @param scalar The 32-byte scalar; clamping is applied by X25519 itself. The caller may wipe it.
 * @returns The private key.
 * @throws {RangeError} When the scalar is not 32 bytes.
 */
export function importX25519PrivateKey(scalar: Uint8Array): X25519PrivateKey {
  if (scalar.length !== X25519_KEY_BYTES) {
    throw new RangeError(
      `X25519 private key must be ${X25519_KEY_BYTES} bytes: got ${scalar.length}`,
    );
  }
  const der = withPrefix(PKCS8_X25519_PREFIX, scalar);
  try {
    return createPrivateKey({ key: Buffer.from(der.buffer), format: "der", type: "pkcs8" });
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
 * const a = generateX25519KeyPair();
 * const b = generateX25519KeyPair();
 * const ab = x25519SharedSecret(a.privateKey, b.publicKey);
 * const ba = x25519SharedSecret(b.privateKey, a.publicKey);
 * if (toHex(ab) !== toHex(ba)) throw new Error("unexpected");
 * ```
 *
 * @param privateKey Our private key.
 * @param peerPublicKey The peer's 32-byte public key.
 * @returns The 32-byte shared secret; the caller should wipe it after use.
 * @throws {X25519Error} When the peer key has the wrong length, is refused, or gives all zeros.
 */
export function x25519SharedSecret(privateKey: X25519PrivateKey, peerPublicKey: Uint8Array): Bytes {
  if (peerPublicKey.length !== X25519_KEY_BYTES) {
    throw new X25519Error(
      "bad_public_key",
      `X25519 public key must be ${X25519_KEY_BYTES} bytes: got ${peerPublicKey.length}`,
    );
  }
  let secret: Uint8Array;
  try {
    const der = withPrefix(SPKI_X25519_PREFIX, peerPublicKey);
    const publicKey = createPublicKey({
      key: Buffer.from(der.buffer),
      format: "der",
      type: "spki",
    });
    secret = diffieHellman({ privateKey, publicKey });
  } catch (error) {
    // The agreement refuses low-order points itself; the check below does not rely on that.
    throw new X25519Error("bad_public_key", "X25519 public key was refused", { cause: error });
  }
  const shared = new Uint8Array(secret);
  secret.fill(0);
  if (isAllZero(shared)) {
    throw new X25519Error("zero_shared_secret", "X25519 shared secret is all zero");
  }
  return shared;
}
