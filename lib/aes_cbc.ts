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
 * @module
 */

import { type Cipheriv, createCipheriv, createDecipheriv, type Decipheriv } from "node:crypto";
import type { Bytes } from "./bytes.ts";
import { AES_BLOCK_BYTES } from "./constants.ts";

/** AES-256 key length. */
export const AES_256_KEY_BYTES = 32;

/** The context's name in `node:crypto`. */
const ALGORITHM = "aes-256-cbc";

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
    const padding = padded[padded.length - 1];
    let bad = padding === 0 || padding > AES_BLOCK_BYTES ? 1 : 0;
    for (let i = 1; i <= AES_BLOCK_BYTES && bad === 0; i++) {
      if (i <= padding && padded[padded.length - i] !== padding) bad = 1;
    }
    if (bad) {
      padded.fill(0);
      throw new AesCbcError("AES-CBC padding is wrong");
    }
    return padded.subarray(0, padded.length - padding); // no second copy of the plaintext
  }
}
