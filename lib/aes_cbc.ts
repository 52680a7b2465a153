/**
 * AES-256-CBC with PKCS#7 padding, synchronous, with the key set once into a native cipher context
 * that lives as long as the object: the records of a session and the audit log's records each
 * encrypt or decrypt many short messages under one key.
 *
 * Why not WebCrypto: each `crypto.subtle` call costs a promise, a thread hand-off and argument
 * checks, about 50 µs for a record of a few hundred bytes, where the cipher itself takes well
 * under one (docs/performance.md). Why not a `node:crypto` cipher per message: in Deno each
 * `createCipheriv` converts the key to bytes again, so the key would be copied into JavaScript
 * memory on every message. Here it is handed over once and the caller wipes its copy.
 *
 * How: CBC keeps one chaining block, the last ciphertext block. The context is created with a zero
 * IV, padding off, and never finalised, so after each message its chaining block is that message's
 * last ciphertext block, which this class also keeps. To encrypt a message under its own IV, the
 * first plaintext block is XORed with that IV and with the kept block, which the context XORs in
 * again: the output is exactly AES-CBC(key, IV, message). Decryption undoes the same XOR on the
 * first output block. Only whole blocks ever reach the context, so the two never drift apart.
 *
 * `AesCbcBatchDecrypter` decrypts many messages in one call for the audit log's readers, by the
 * definition of CBC decryption rather than through the CBC context (see there).
 *
 * @module
 */

import { type Cipheriv, createCipheriv, createDecipheriv, type Decipheriv } from "node:crypto";
import type { Bytes } from "./bytes.ts";
import { AES_BLOCK_BYTES } from "./constants.ts";

/** AES-256 key length. */
export const AES_256_KEY_BYTES = 32;

/** The context's name in `node:crypto`. */
const ALGORITHM = "aes-256-cbc";

/** AES-256 applied to each block on its own, for CBC decryption done by hand. */
const BLOCK_ALGORITHM = "aes-256-ecb";

/** Bytes of a 32-bit word: the XOR of whole blocks goes a word at a time. */
const WORD_BYTES = 4;

/** A ciphertext that cannot come from AES-CBC with PKCS#7 padding under this key. */
export class AesCbcError extends Error {
  /**
   * Creates the error.
   *
   * @param message What was wrong, without any key or plaintext material.
   */
  constructor(message: string) {
    super(message);
    this.name = "AesCbcError";
  }
}

function checkKey(key: Uint8Array): void {
  if (key.length !== AES_256_KEY_BYTES) {
    throw new RangeError(`AES-256 key must be ${AES_256_KEY_BYTES} bytes: got ${key.length}`);
  }
}

function checkIv(iv: Uint8Array): void {
  if (iv.length !== AES_BLOCK_BYTES) {
    throw new RangeError(`AES-CBC IV must be ${AES_BLOCK_BYTES} bytes: got ${iv.length}`);
  }
}

/**
 * The bytes of a `node:crypto` output as a plain Uint8Array: over the same memory when the output
 * has its buffer to itself, else a copy, so no caller holds a view into a shared pool.
 */
function ownBytes(output: Uint8Array): Bytes {
  const whole = output.byteOffset === 0 && output.length === output.buffer.byteLength;
  return whole ? new Uint8Array(output.buffer as ArrayBuffer) : new Uint8Array(output);
}

/** Encrypts messages under one key, each with its own IV. Not safe for concurrent use. */
export class AesCbcEncrypter {
  readonly #context: Cipheriv;
  /** The context's chaining block: the last ciphertext block it produced (zero at first). */
  readonly #chain = new Uint8Array(AES_BLOCK_BYTES);

  /**
   * Sets the key into a native context.
   *
   * @param key 32 key bytes; the caller wipes its copy afterwards.
   * @throws {RangeError} When the key is not 32 bytes.
   */
  constructor(key: Uint8Array) {
    checkKey(key);
    this.#context = createCipheriv(ALGORITHM, key, new Uint8Array(AES_BLOCK_BYTES));
    this.#context.setAutoPadding(false);
  }

  /**
   * Encrypts one message.
   *
   * @param iv 16 bytes, fresh and unpredictable for each message.
   * @param plaintext Any length, including zero.
   * @returns The ciphertext: the padded length, a multiple of 16 bytes.
   * @throws {RangeError} When the IV is not 16 bytes.
   */
  encrypt(iv: Uint8Array, plaintext: Uint8Array): Bytes {
    checkIv(iv);
    const padding = AES_BLOCK_BYTES - (plaintext.length % AES_BLOCK_BYTES);
    const padded = new Uint8Array(plaintext.length + padding);
    padded.set(plaintext);
    padded.fill(padding, plaintext.length);
    const chain = this.#chain;
    for (let i = 0; i < AES_BLOCK_BYTES; i++) padded[i] ^= iv[i] ^ chain[i];
    const ciphertext = ownBytes(this.#context.update(padded));
    padded.fill(0);
    chain.set(ciphertext.subarray(ciphertext.length - AES_BLOCK_BYTES));
    return ciphertext;
  }
}

/** Decrypts messages under one key, each with its own IV. Not safe for concurrent use. */
export class AesCbcDecrypter {
  readonly #context: Decipheriv;
  /** The context's chaining block: the last ciphertext block it was given (zero at first). */
  readonly #chain = new Uint8Array(AES_BLOCK_BYTES);

  /**
   * Sets the key into a native context.
   *
   * @param key 32 key bytes; the caller wipes its copy afterwards.
   * @throws {RangeError} When the key is not 32 bytes.
   */
  constructor(key: Uint8Array) {
    checkKey(key);
    this.#context = createDecipheriv(ALGORITHM, key, new Uint8Array(AES_BLOCK_BYTES));
    this.#context.setAutoPadding(false);
  }

  /**
   * Decrypts one message and removes its padding. Callers authenticate the ciphertext first
   * (encrypt-then-MAC), so a padding error here is never an oracle.
   *
   * @param iv The message's 16-byte IV.
   * @param ciphertext A non-zero multiple of 16 bytes.
   * @returns The plaintext.
   * @throws {RangeError} When the IV is not 16 bytes.
   * @throws {AesCbcError} When the length is not a non-zero multiple of 16 or the padding is
   * wrong; a bad length is refused before it reaches the context.
   */
  decrypt(iv: Uint8Array, ciphertext: Uint8Array): Bytes {
    checkIv(iv);
    if (ciphertext.length === 0 || ciphertext.length % AES_BLOCK_BYTES !== 0) {
      throw new AesCbcError(
        `AES-CBC ciphertext must be a non-zero multiple of ${AES_BLOCK_BYTES} bytes: got ${ciphertext.length}`,
      );
    }
    const padded = ownBytes(this.#context.update(ciphertext));
    const chain = this.#chain;
    for (let i = 0; i < AES_BLOCK_BYTES; i++) padded[i] ^= iv[i] ^ chain[i];
    chain.set(ciphertext.subarray(ciphertext.length - AES_BLOCK_BYTES));
    const padding = paddingOf(padded, padded.length);
    if (padding === 0) {
      padded.fill(0);
      throw new AesCbcError("AES-CBC padding is wrong");
    }
    return padded.subarray(0, padded.length - padding); // no second copy of the plaintext
  }
}

/**
 * Decrypts many AES-256-CBC messages in one native call, each under its own IV. The ciphertexts
 * are joined and every block is decrypted on its own (the raw block cipher); each plaintext block
 * is then XORed with the ciphertext block before it, or with its message's IV for a first block.
 * That is CBC decryption as NIST SP 800-38A section 6.2 defines it, byte for byte (tested against
 * the CBC context and WebCrypto).
 *
 * Why: in Deno 2.9 `node:crypto`'s CBC mode decrypts at about 200 MB/s whatever the input size,
 * its raw block mode at about 1 GB/s on inputs of tens of kilobytes, and the XOR costs less than
 * the difference: the audit log's readers decrypt a few hundred records per call
 * (docs/performance.md). Only decryption can be split like this; CBC encryption chains each block
 * into the next. The context holds no state between calls.
 *
 * Callers authenticate every ciphertext first (encrypt-then-MAC), so a padding verdict is never
 * an oracle.
 */
export class AesCbcBatchDecrypter {
  readonly #context: Decipheriv;

  /**
   * Sets the key into a native context.
   *
   * @param key 32 key bytes; the caller wipes its copy afterwards.
   * @throws {RangeError} When the key is not 32 bytes.
   */
  constructor(key: Uint8Array) {
    checkKey(key);
    this.#context = createDecipheriv(BLOCK_ALGORITHM, key, null);
    this.#context.setAutoPadding(false);
  }

  /**
   * Decrypts messages and removes their padding.
   *
   * @param messages Each message's 16-byte IV and its ciphertext.
   * @returns Each message's plaintext, or null where the length is not a non-zero multiple of 16
   * or the padding is wrong. The plaintexts are views into one buffer (a copy each would cost as
   * much as the decryption); the bytes between them are the messages' padding.
   * @throws {RangeError} When an IV is not 16 bytes.
   */
  decryptAll(messages: readonly { iv: Uint8Array; ct: Uint8Array }[]): (Bytes | null)[] {
    const usable = (ct: Uint8Array) => ct.length > 0 && ct.length % AES_BLOCK_BYTES === 0;
    let total = 0;
    for (const { iv, ct } of messages) {
      checkIv(iv);
      if (usable(ct)) total += ct.length;
    }
    const joined = new Uint8Array(total);
    let at = 0;
    for (const { ct } of messages) {
      if (!usable(ct)) continue;
      joined.set(ct, at);
      at += ct.length;
    }
    // ownBytes gives offset 0 of its own buffer: both are word-aligned
    const plain = total === 0 ? joined : ownBytes(this.#context.update(joined));
    if (plain.length !== total) throw new Error("AES block decryption held bytes back");
    const plainWords = new Uint32Array(plain.buffer, 0, total / WORD_BYTES);
    const cipherWords = new Uint32Array(joined.buffer, 0, total / WORD_BYTES);
    const blockWords = AES_BLOCK_BYTES / WORD_BYTES;
    const out: (Bytes | null)[] = [];
    at = 0;
    for (const { iv, ct } of messages) {
      if (!usable(ct)) {
        out.push(null);
        continue;
      }
      const end = at + ct.length;
      for (let i = 0; i < AES_BLOCK_BYTES; i++) plain[at + i] ^= iv[i];
      for (let w = at / WORD_BYTES + blockWords; w < end / WORD_BYTES; w++) {
        plainWords[w] ^= cipherWords[w - blockWords];
      }
      const padding = paddingOf(plain, end);
      out.push(padding === 0 ? null : plain.subarray(at, end - padding));
      at = end;
    }
    return out;
  }
}

/**
 * The PKCS#7 padding length of a decrypted message ending at `end` (RFC 5652 section 6.3), or 0
 * when the padding is wrong.
 */
function paddingOf(plain: Uint8Array, end: number): number {
  const padding = plain[end - 1];
  if (padding === 0 || padding > AES_BLOCK_BYTES) return 0;
  for (let i = 2; i <= padding; i++) if (plain[end - i] !== padding) return 0;
  return padding;
}
