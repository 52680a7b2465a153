/**
 * SHA-256, computed synchronously by `node:crypto`.
 *
 * Why not WebCrypto: the handshake hashes its transcript three times per side, and a
 * `crypto.subtle.digest` call costs a promise and a thread hand-off, several times the hashing of
 * a few hundred bytes (docs/performance.md). Only public data is hashed here (transcripts); keys
 * and MACs stay with WebCrypto and lib/hmac_state.ts.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Bytes } from "./bytes.ts";

/**
 * Hashes bytes with SHA-256.
 *
 * @example Hash the empty string
 * ```ts
 * import { sha256 } from "./sha256.ts";
 * import { toHex } from "./bytes.ts";
 * const digest = await sha256(new Uint8Array(0));
 * if (!toHex(digest).startsWith("e3b0c442")) throw new Error("unexpected");
 * ```
 *
 * @param data The bytes to hash.
 * @returns The 32-byte digest (a promise, as callers written for WebCrypto expect).
 */
export function sha256(data: Uint8Array<ArrayBuffer>): Promise<Bytes> {
  const digest = createHash("sha256").update(data).digest();
  return Promise.resolve(new Uint8Array(digest.buffer, digest.byteOffset, digest.length).slice());
}
