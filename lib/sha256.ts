/**
 * SHA-256 through WebCrypto.
 *
 * @module
 */

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
 * @returns The 32-byte digest.
 */
export async function sha256(data: Uint8Array<ArrayBuffer>): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.digest({ name: "SHA-256" }, data));
}
