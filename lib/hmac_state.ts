/**
 * HMAC-SHA256 (RFC 2104) computed synchronously, for the per-record MACs of a session: the
 * SHA-256 states after the inner and the outer key pad are built once, and each MAC continues
 * copies of them (`node:crypto` `Hash.copy` clones the state natively).
 *
 * Why: WebCrypto's `sign` and `verify` cost a promise, a thread hand-off and argument checks per
 * call, several times the hashing of a record of a few hundred bytes (docs/performance.md).
 *
 * Note: the key pads exist in JavaScript memory only while the two states are built, and are
 * zeroed at once; afterwards the key lives only inside the native hash states, as it would
 * inside a `CryptoKey`. `node:crypto`'s own `createHmac` is not used: in Deno it computes the pads
 * in JavaScript on every call and leaves them to the garbage collector.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import type { Bytes } from "./bytes.ts";
import { MAC_BYTES } from "./constants.ts";

/** SHA-256 block size: the length of the HMAC key pads (RFC 2104 section 2). */
const SHA256_BLOCK_BYTES = 64;

/** Inner and outer pad bytes (RFC 2104 section 2). */
const IPAD = 0x36;
const OPAD = 0x5c;

/** HMAC-SHA256 with one key, synchronous. */
export class HmacSha256State {
  readonly #inner: Hash;
  readonly #outer: Hash;

  /**
   * Builds the inner and outer states for a key.
   *
   * @param key 1 to 64 key bytes (session MAC keys are 32); the caller wipes its copy.
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
   * Computes the MAC of the concatenation of `parts`, without concatenating them.
   *
   * @param parts The message, in pieces.
   * @returns The 32-byte tag.
   */
  sign(...parts: Uint8Array[]): Bytes {
    const expected = this.#tagHex(parts);
    const tag = new Uint8Array(MAC_BYTES);
    for (let i = 0; i < MAC_BYTES; i++) tag[i] = hexByte(expected, i);
    return tag;
  }

  /**
   * Checks a tag over its full 32 bytes, with no early exit and no branch on the bytes compared.
   *
   * Note: `node:crypto`'s `timingSafeEqual` is not used: in Deno it costs a few microseconds per
   * call, as much as the HMAC itself. Constant time in JavaScript is best effort under a JIT; the
   * loop below does the same work whatever the bytes are.
   *
   * @param tag The tag that came with the message.
   * @param parts The message, in pieces.
   * @returns Whether it verifies; a tag of the wrong length never does.
   */
  verify(tag: Uint8Array, ...parts: Uint8Array[]): boolean {
    if (tag.length !== MAC_BYTES) return false;
    const expected = this.#tagHex(parts);
    let difference = 0;
    for (let i = 0; i < MAC_BYTES; i++) difference |= hexByte(expected, i) ^ tag[i];
    return difference === 0;
  }

  /**
   * The tag as lowercase hex. Digests are taken as hex because in Deno a digest returned as a
   * Buffer costs about a microsecond more, and a hex string given to `update` would cost a Buffer
   * too, so the inner digest is decoded into a scratch array for the outer hash.
   */
  #tagHex(parts: Uint8Array[]): string {
    const inner = this.#inner.copy();
    for (const part of parts) inner.update(part);
    const innerHex = inner.digest("hex");
    for (let i = 0; i < MAC_BYTES; i++) INNER_DIGEST[i] = hexByte(innerHex, i);
    return this.#outer.copy().update(INNER_DIGEST).digest("hex");
  }
}

/**
 * Scratch space for an inner digest between the two hashes of one MAC; calls are synchronous, so
 * one array serves every state. It holds a hash, not key material.
 */
const INNER_DIGEST = new Uint8Array(MAC_BYTES);

/** The value of each ASCII code as a lowercase hex digit (what `digest("hex")` writes). */
const HEX_VALUES = (() => {
  const values = new Uint8Array(128);
  for (let i = 0; i < 16; i++) values["0123456789abcdef".charCodeAt(i)] = i;
  return values;
})();

/** Byte `i` of a lowercase hex string. */
function hexByte(hex: string, i: number): number {
  return (HEX_VALUES[hex.charCodeAt(2 * i)] << 4) | HEX_VALUES[hex.charCodeAt(2 * i + 1)];
}
