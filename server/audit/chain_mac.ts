/**
 * The audit chain's HMAC-SHA256 (RFC 2104), computed synchronously from the SHA-256 states after
 * the key pads, for one key epoch: the construction of `lib/hmac_state.ts`, with a check that
 * avoids two of its costs per record.
 *
 * Why not WebCrypto here: the chain is strictly sequential (each MAC covers the previous one), so
 * a `crypto.subtle.sign` per record meant one thread hand-off and one trip through the bank's
 * busy event loop per record. Under load that made a batch's flush take tens of milliseconds, the
 * longest step of a durable transaction (docs/performance.md). Readers check with the same
 * construction, a few microseconds per record without a thread hand-off. The output is the same
 * HMAC, byte for byte.
 *
 * Why not `HmacSha256State.verify` for readers: in Deno each `node:crypto` digest returned as a
 * Buffer costs about 1 µs more than the same digest as hex, and `timingSafeEqual` a few µs, more
 * than the hashing itself; a reader checks every record. The check here takes both digests as hex,
 * decodes the inner one into a reused buffer for the outer hash (a hex string given to `update`
 * costs a Buffer too), and compares the outer one with the stored tag in JavaScript
 * (docs/performance.md has the figures).
 *
 * Note: the key pads exist in JavaScript memory only while the two states are built, and are
 * zeroed at once; afterwards the key lives only inside the native hash states.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import type { Bytes } from "./audit_crypto.ts";
import { hkdfSha256 } from "./audit_crypto.ts";
import { EPOCH_MAC_INFO, MAC_BYTES } from "./constants.ts";

/** SHA-256 block size: the length of the HMAC key pads (RFC 2104 section 2). */
const SHA256_BLOCK_BYTES = 64;

/** Inner and outer pad bytes (RFC 2104 section 2). */
const IPAD = 0x36;
const OPAD = 0x5c;

/** The value of each ASCII code as a lowercase hex digit (what `digest("hex")` writes). */
const HEX_VALUES = (() => {
  const values = new Uint8Array(128);
  for (let i = 0; i < 16; i++) values["0123456789abcdef".charCodeAt(i)] = i;
  return values;
})();

/** HMAC-SHA256 with one key, synchronous. */
export class ChainMac {
  readonly #inner: Hash;
  readonly #outer: Hash;
  /** The inner digest of the tag being checked (not secret: a hash of the key pad and data). */
  readonly #innerDigest = new Uint8Array(MAC_BYTES);

  /**
   * Builds the states after the inner and outer key pads.
   *
   * @param key 1 to 64 key bytes (the audit log's keys are 32); the caller zeroes its copy.
   * @throws {RangeError} For an empty key or one longer than a SHA-256 block.
   */
  constructor(key: Uint8Array) {
    if (key.length === 0 || key.length > SHA256_BLOCK_BYTES) {
      throw new RangeError(`HMAC key must be 1 to ${SHA256_BLOCK_BYTES} bytes: got ${key.length}`);
    }
    const innerPad = new Uint8Array(SHA256_BLOCK_BYTES).fill(IPAD);
    const outerPad = new Uint8Array(SHA256_BLOCK_BYTES).fill(OPAD);
    for (let i = 0; i < key.length; i++) {
      innerPad[i] ^= key[i];
      outerPad[i] ^= key[i];
    }
    this.#inner = createHash("sha256").update(innerPad);
    this.#outer = createHash("sha256").update(outerPad);
    innerPad.fill(0);
    outerPad.fill(0);
  }

  /**
   * The MAC key of a key epoch, derived as `epochMacKey` derives it.
   *
   * @param secret The epoch secret (32 bytes).
   * @returns The MAC for that epoch.
   */
  static async forEpoch(secret: Bytes): Promise<ChainMac> {
    const raw = await hkdfSha256(secret, EPOCH_MAC_INFO);
    try {
      return new ChainMac(raw);
    } finally {
      raw.fill(0);
    }
  }

  /**
   * Computes HMAC-SHA256 of `data`.
   *
   * @param data The message.
   * @returns The 32-byte tag.
   */
  sign(data: Uint8Array): Bytes {
    const innerDigest = this.#inner.copy().update(data).digest();
    const tag = this.#outer.copy().update(innerDigest).digest();
    return new Uint8Array(tag.buffer, tag.byteOffset, tag.length).slice();
  }

  /**
   * Checks a tag over its full 32 bytes without an early exit.
   *
   * Note: like any comparison in JavaScript, constant time is best effort under a JIT; the tags
   * compared are a stored one and one this process computed, with no remote party timing the
   * answer.
   *
   * @param tag The stored tag.
   * @param data The bytes it should cover.
   * @returns Whether it verifies; a tag of the wrong length never does.
   */
  verify(tag: Uint8Array, data: Uint8Array): boolean {
    if (tag.length !== MAC_BYTES) return false;
    const innerDigest = this.#innerDigest;
    const innerHex = this.#inner.copy().update(data).digest("hex");
    for (let i = 0; i < MAC_BYTES; i++) innerDigest[i] = hexByte(innerHex, i);
    const expected = this.#outer.copy().update(innerDigest).digest("hex");
    let difference = 0;
    for (let i = 0; i < MAC_BYTES; i++) difference |= hexByte(expected, i) ^ tag[i];
    return difference === 0;
  }
}

/** Byte `i` of a lowercase hex string. */
function hexByte(hex: string, i: number): number {
  return (HEX_VALUES[hex.charCodeAt(2 * i)] << 4) | HEX_VALUES[hex.charCodeAt(2 * i + 1)];
}
