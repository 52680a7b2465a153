/**
 * The audit chain's HMAC-SHA256 for one key epoch: lib/hmac_state.ts's synchronous HMAC, keyed
 * from the epoch secret.
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
import { EPOCH_MAC_INFO } from "./constants.ts";

/** HMAC-SHA256 with one epoch's key, synchronous: `sign(data)` and `verify(tag, data)`. */
export class ChainMac extends HmacSha256State {
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
}
