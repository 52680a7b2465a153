/**
 * Secrets derived from the bank-wide key (`keys/bank.key`): the PIN pepper and the key that wraps
 * ATM pre-shared keys before they are stored in the ledger database. Both live only in memory and
 * both come from one file, so a new server of the same bank is provisioned by copying that file.
 *
 * A stolen database alone therefore reveals neither PIN hashes that can be tested offline nor
 * usable ATM keys.
 *
 * @module
 */

import { hkdfSha256, toBase64Url } from "../lib/mod.ts";

/** HKDF labels; changing one invalidates every stored PIN or wrapped key. */
const PIN_PEPPER_LABEL = "bank pin pepper v1";
const ATM_WRAP_LABEL = "bank atm key wrap v1";
const KEY_CHECK_LABEL = "bank key check v1";

/** Bytes of the key check value: enough that two different bank keys never share one. */
const KEY_CHECK_BYTES = 32;

/** AES-GCM nonce size (NIST SP 800-38D recommends 96 bits). */
const WRAP_NONCE_BYTES = 12;

/** What the bank derives from its key file. */
export interface BankSecrets {
  /** Mixed into every PIN hash. */
  pinPepper: Uint8Array<ArrayBuffer>;
  /** AES-256-GCM key, non-extractable, for ATM pre-shared keys at rest. */
  atmWrapKey: CryptoKey;
  /**
   * A one-way fingerprint of the bank key (HKDF output, base64url), stored in the ledger so a
   * server holding another bank key is refused before it writes PIN hashes or ATM keys that the
   * other servers cannot use. It reveals nothing about the key.
   */
  keyCheck: string;
}

/** A wrapped ATM key that does not decrypt: a wrong bank key or an edited database row. */
export class KeyUnwrapError extends Error {
  /** Always "unwrap_failed"; the cause is never more specific, by design of AES-GCM. */
  readonly code = "unwrap_failed";

  /** Creates the error for one ATM id. */
  constructor(atmId: string) {
    super(`Stored key of ATM ${JSON.stringify(atmId)} does not decrypt with this bank key`);
    this.name = "KeyUnwrapError";
  }
}

/**
 * Derives the bank's secrets from the raw bank key.
 *
 * @param bankKey 32 bytes from `keys/bank.key`; the caller wipes it afterwards.
 * @returns The pepper, the wrap key and the key check value.
 */
export async function deriveBankSecrets(bankKey: Uint8Array<ArrayBuffer>): Promise<BankSecrets> {
  const noSalt = new Uint8Array(32);
  const pinPepper = await hkdfSha256(bankKey, noSalt, PIN_PEPPER_LABEL, 32);
  const wrapBytes = await hkdfSha256(bankKey, noSalt, ATM_WRAP_LABEL, 32);
  const atmWrapKey = await crypto.subtle.importKey(
    "raw",
    wrapBytes,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  wrapBytes.fill(0);
  const check = await hkdfSha256(bankKey, noSalt, KEY_CHECK_LABEL, KEY_CHECK_BYTES);
  return { pinPepper, atmWrapKey, keyCheck: toBase64Url(check) };
}

/**
 * Encrypts an ATM's pre-shared key for storage, bound to its ATM id.
 *
 * @param secrets The bank's secrets.
 * @param atmId The ATM the key belongs to (authenticated, not encrypted).
 * @param psk The 32-byte pre-shared key.
 * @returns nonce || ciphertext || tag.
 */
export async function wrapAtmKey(
  secrets: BankSecrets,
  atmId: string,
  psk: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const nonce = crypto.getRandomValues(new Uint8Array(WRAP_NONCE_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: new TextEncoder().encode(atmId) },
    secrets.atmWrapKey,
    psk,
  );
  const wrapped = new Uint8Array(WRAP_NONCE_BYTES + sealed.byteLength);
  wrapped.set(nonce);
  wrapped.set(new Uint8Array(sealed), WRAP_NONCE_BYTES);
  return wrapped;
}

/**
 * Decrypts a stored ATM key.
 *
 * @param secrets The bank's secrets.
 * @param atmId The ATM the key must belong to.
 * @param wrapped What {@link wrapAtmKey} returned.
 * @returns The pre-shared key.
 * @throws {KeyUnwrapError} When the bytes were altered, moved to another ATM id, or wrapped with
 * another bank key.
 */
export async function unwrapAtmKey(
  secrets: BankSecrets,
  atmId: string,
  wrapped: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  try {
    const plain = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: wrapped.slice(0, WRAP_NONCE_BYTES),
        additionalData: new TextEncoder().encode(atmId),
      },
      secrets.atmWrapKey,
      wrapped.slice(WRAP_NONCE_BYTES),
    );
    return new Uint8Array(plain);
  } catch {
    throw new KeyUnwrapError(atmId);
  }
}
