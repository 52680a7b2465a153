/**
 * The audit records' AES-256-CBC, synchronous, on the key derived from the master key
 * (`ENCRYPTION_INFO`) and set once into native contexts (`lib/aes_cbc.ts`).
 *
 * Why not WebCrypto here: the writer encrypts every record of every durable transaction and the
 * readers decrypt every record of the log; a `crypto.subtle` call costs about 50 µs of promise,
 * thread hand-off and argument checks for a record of a few hundred bytes, the native contexts
 * about 3 µs (docs/performance.md). The output is the same AES-CBC, byte for byte.
 *
 * Hazard: AES-CBC is unauthenticated. Nothing decrypted here is trusted until its record's HMAC
 * has verified.
 *
 * @module
 */

import { AesCbcBatchDecrypter, AesCbcEncrypter } from "../../lib/aes_cbc.ts";
import type { Bytes } from "./audit_crypto.ts";
import { withCipherKeyBytes } from "./audit_keys.ts";

/** Decrypts records under the log's cipher key. Not safe for concurrent use (it is synchronous). */
export class RecordDecrypter {
  readonly #decrypter: AesCbcBatchDecrypter;

  /**
   * Use `RecordDecrypter.load`.
   *
   * @param key The 32-byte cipher key; the caller zeroes its copy.
   */
  constructor(key: Bytes) {
    this.#decrypter = new AesCbcBatchDecrypter(key);
  }

  /**
   * Loads the cipher key of a data directory.
   *
   * @param dataDir The data directory.
   * @returns The decrypter; the key bytes are zeroed before it returns.
   * @throws {AuditError} `missing_key`, `insecure_key_file`, `malformed`.
   */
  static load(dataDir: string): Promise<RecordDecrypter> {
    return withCipherKeyBytes(dataDir, (raw) => new RecordDecrypter(raw));
  }

  /**
   * Decrypts one record. Verify the record's MAC before trusting the result.
   *
   * @param iv The record's 16-byte IV.
   * @param ciphertext The record's ciphertext.
   * @returns The plaintext, or null when the length or padding is wrong (a wrong key or edited
   * bytes).
   * @throws {RangeError} When the IV is not 16 bytes (the record parser never lets one through).
   */
  decrypt(iv: Bytes, ciphertext: Bytes): Bytes | null {
    return this.#decrypter.decryptAll([{ iv, ct: ciphertext }])[0];
  }

  /**
   * Decrypts several records with one call into the native context (lib/aes_cbc.ts
   * `AesCbcBatchDecrypter`). Verify each record's MAC before trusting its plaintext.
   *
   * @param records IVs and ciphertexts.
   * @returns Each record's plaintext, or null where `decrypt` would give null. The plaintexts are
   * views into one buffer; the bytes between them are the records' padding.
   * @throws {RangeError} When an IV is not 16 bytes.
   */
  decryptMany(records: readonly { iv: Bytes; ct: Bytes }[]): (Bytes | null)[] {
    return this.#decrypter.decryptAll(records);
  }
}

/** Encrypts records under the log's cipher key. Not safe for concurrent use (it is synchronous). */
export class RecordEncrypter {
  readonly #encrypter: AesCbcEncrypter;

  /**
   * Use `RecordEncrypter.load`.
   *
   * @param key The 32-byte cipher key; the caller zeroes its copy.
   */
  constructor(key: Bytes) {
    this.#encrypter = new AesCbcEncrypter(key);
  }

  /**
   * Loads the cipher key of a data directory.
   *
   * @param dataDir The data directory.
   * @returns The encrypter; the key bytes are zeroed before it returns.
   * @throws {AuditError} `missing_key`, `insecure_key_file`, `malformed`.
   */
  static load(dataDir: string): Promise<RecordEncrypter> {
    return withCipherKeyBytes(dataDir, (raw) => new RecordEncrypter(raw));
  }

  /**
   * Encrypts one record's event.
   *
   * @param iv A fresh random 16-byte IV, never reused with this key.
   * @param plaintext The event's JSON bytes.
   * @returns The ciphertext, a non-zero multiple of 16 bytes.
   * @throws {RangeError} When the IV is not 16 bytes.
   */
  encrypt(iv: Bytes, plaintext: Bytes): Bytes {
    return this.#encrypter.encrypt(iv, plaintext);
  }
}
