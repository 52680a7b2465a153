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

import { AesCbcDecrypter, AesCbcEncrypter, AesCbcError } from "../../lib/aes_cbc.ts";
import { AES_BLOCK_BYTES } from "../../lib/constants.ts";
import type { Bytes } from "./audit_crypto.ts";
import { withCipherKeyBytes } from "./audit_keys.ts";

/** Decrypts records under the log's cipher key. Not safe for concurrent use (it is synchronous). */
export class RecordDecrypter {
  readonly #decrypter: AesCbcDecrypter;

  /**
   * Use `RecordDecrypter.load`.
   *
   * @param key The 32-byte cipher key; the caller zeroes its copy.
   */
  constructor(key: Bytes) {
    this.#decrypter = new AesCbcDecrypter(key);
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
    try {
      return this.#decrypter.decrypt(iv, ciphertext);
    } catch (error) {
      if (error instanceof AesCbcError) return null; // one answer for every failure
      throw error;
    }
  }

  /**
   * Decrypts several records with one call into the native context: their ciphertexts are joined
   * and decrypted as one CBC message under the first record's IV. Each later record's first block
   * then came out XORed with the previous record's last ciphertext block instead of its own IV,
   * which one XOR of 16 bytes corrects; each record's padding is then checked and removed here.
   * The result is exactly what `decrypt` gives record by record (tested), at one native call per
   * batch instead of one per record. Verify each record's MAC before trusting its plaintext.
   *
   * @param records IVs and ciphertexts, each a non-zero multiple of 16 bytes.
   * @returns Each record's plaintext, or null where `decrypt` would give null. The plaintexts are
   * views into one buffer (a copy each cost as much as the decryption); the bytes between them
   * are the records' padding.
   */
  decryptMany(records: readonly { iv: Bytes; ct: Bytes }[]): (Bytes | null)[] {
    let total = 0;
    for (const { iv, ct } of records) {
      if (iv.length !== AES_BLOCK_BYTES || ct.length === 0 || ct.length % AES_BLOCK_BYTES !== 0) {
        return records.map((record) => this.decrypt(record.iv, record.ct)); // let decrypt judge
      }
      total += ct.length;
    }
    if (records.length < 2) return records.map((record) => this.decrypt(record.iv, record.ct));
    const last = records[records.length - 1];
    if (last.ct.length === AES_BLOCK_BYTES) {
      // Its padding is in its first block, which the joined decryption gets chained to the
      // previous record, not to its own IV: the padding check below would judge the wrong bytes.
      return [...this.decryptMany(records.slice(0, -1)), this.decrypt(last.iv, last.ct)];
    }
    const joined = new Uint8Array(total);
    let at = 0;
    for (const { ct } of records) {
      joined.set(ct, at);
      at += ct.length;
    }
    // the joined message ends with the last record's padding (in a block of its own chain, since
    // that record has two blocks or more): a bad one means a bad record
    const plain = this.decrypt(records[0].iv, joined);
    if (plain === null) return records.map((record) => this.decrypt(record.iv, record.ct));
    const lastPadding = total - plain.length;
    const out: (Bytes | null)[] = [];
    at = 0;
    for (let i = 0; i < records.length; i++) {
      const { iv, ct } = records[i];
      if (i > 0) {
        const previous = records[i - 1].ct;
        const chained = previous.length - AES_BLOCK_BYTES;
        for (let j = 0; j < AES_BLOCK_BYTES; j++) plain[at + j] ^= previous[chained + j] ^ iv[j];
      }
      const end = at + ct.length;
      const padding = i === records.length - 1 ? lastPadding : paddingOf(plain, end);
      out.push(padding === 0 ? null : plain.subarray(at, end - padding));
      at = end;
    }
    return out;
  }
}

/**
 * The PKCS#7 padding length of a decrypted record ending at `end` (RFC 5652 section 6.3), or 0
 * when the padding is wrong.
 */
function paddingOf(plain: Uint8Array, end: number): number {
  const padding = plain[end - 1];
  if (padding === 0 || padding > AES_BLOCK_BYTES) return 0;
  for (let i = 2; i <= padding; i++) if (plain[end - i] !== padding) return 0;
  return padding;
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
