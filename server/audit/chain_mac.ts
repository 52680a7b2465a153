/**
 * The audit chain's HMAC-SHA256, computed synchronously from the SHA-256 states after the key
 * pads (`lib/hmac_state.ts`), for one key epoch.
 *
 * Why not WebCrypto here: the chain is strictly sequential (each MAC covers the previous one), so
 * a `crypto.subtle.sign` per record meant one thread hand-off and one trip through the bank's
 * busy event loop per record. Under load that made a batch's flush take tens of milliseconds, the
 * longest step of a durable transaction (docs/performance.md). Readers check with the same
 * construction, a few microseconds per record without a thread hand-off. The output is the same
 * HMAC, byte for byte.
 *
 * @module
 */

import { HmacSha256State } from "../../lib/hmac_state.ts";
import type { Bytes } from "./audit_crypto.ts";
import { hkdfSha256 } from "./audit_crypto.ts";
import { EPOCH_MAC_INFO, MAC_BYTES } from "./constants.ts";

/** HMAC-SHA256 with one key, synchronous. */
export class ChainMac {
  readonly #state: HmacSha256State;

  /**
   * Builds the states for a key.
   *
   * @param key 1 to 64 key bytes (the audit log's keys are 32); the caller zeroes its copy.
   * @throws {RangeError} For an empty key or one longer than a SHA-256 block.
   */
  constructor(key: Uint8Array) {
    this.#state = new HmacSha256State(key);
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
    return this.#state.sign(data);
  }

  /**
   * Checks a tag over its full 32 bytes without an early exit.
   *
   * Why not `HmacSha256State.verify`: its `node:crypto` `timingSafeEqual` costs a few µs per call
   * in Deno, as much as the HMAC itself, and a reader checks every record. Note: like any
   * comparison in JavaScript, constant time is best effort under a JIT; the tags compared are a
   * stored one and one this process computed, with no remote party timing the answer.
   *
   * @param tag The stored tag.
   * @param data The bytes it should cover.
   * @returns Whether it verifies; a tag of the wrong length never does.
   */
  verify(tag: Uint8Array, data: Uint8Array): boolean {
    if (tag.length !== MAC_BYTES) return false;
    const expected = this.#state.sign(data);
    let difference = 0;
    for (let i = 0; i < MAC_BYTES; i++) difference |= expected[i] ^ tag[i];
    return difference === 0;
  }
}
