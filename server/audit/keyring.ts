/**
 * Which MAC keys a reader holds. The server holds one epoch (its current one); the holder of the
 * offline key holds them all, derived forward on demand.
 *
 * @module
 */

import type { Bytes } from "./audit_crypto.ts";
import { epochMacKey, type EpochState, nextEpochSecret } from "./audit_keys.ts";

/** MAC keys by epoch. */
export interface Keyring {
  /**
   * The HMAC key of an epoch.
   *
   * @param epoch The record's epoch.
   * @returns The key, or null when this keyring cannot check that epoch.
   */
  macKey(epoch: number): Promise<CryptoKey | null>;
  /** Newest epoch a record may carry, when known: nothing is written before its key exists. */
  readonly epochLimit: number | undefined;
  /** Whether every epoch can be checked. */
  readonly complete: boolean;
  /** Forgets the secrets held. */
  erase(): void;
}

/** The server's view: only the current epoch can be checked. */
export class ServerKeyring implements Keyring {
  #epoch: number;
  #key: Promise<CryptoKey>;

  /**
   * Holds the current epoch's key.
   *
   * @param state The epoch key file's contents; the secret is not kept.
   */
  constructor(state: EpochState) {
    this.#epoch = state.epoch;
    this.#key = epochMacKey(state.secret);
  }

  /** The current epoch. */
  get epochLimit(): number {
    return this.#epoch;
  }

  /** Earlier epochs need the offline key. */
  get complete(): boolean {
    return false;
  }

  /** @inheritdoc */
  macKey(epoch: number): Promise<CryptoKey | null> {
    return epoch === this.#epoch ? this.#key : Promise.resolve(null);
  }

  /** Nothing raw is held: the CryptoKey is non-extractable. */
  erase(): void {}
}

/** The offline verifier's view: every epoch, derived from epoch secret 0. */
export class OfflineKeyring implements Keyring {
  #root: Bytes;
  #epoch = 0;
  #secret: Bytes;
  #key: Promise<CryptoKey> | null = null;

  /**
   * Holds epoch secret 0.
   *
   * @param root The offline key; kept (a copy) until `erase()`.
   */
  constructor(root: Bytes) {
    this.#root = root.slice();
    this.#secret = root.slice();
  }

  /** No limit: the offline key derives any epoch. */
  get epochLimit(): undefined {
    return undefined;
  }

  /** Every epoch can be checked. */
  get complete(): boolean {
    return true;
  }

  /** @inheritdoc */
  async macKey(epoch: number): Promise<CryptoKey | null> {
    if (epoch < this.#epoch) {
      this.#secret.fill(0); // readers go forward; going back starts again from epoch 0
      this.#secret = this.#root.slice();
      this.#epoch = 0;
      this.#key = null;
    }
    while (this.#epoch < epoch) {
      const next = await nextEpochSecret(this.#secret);
      this.#secret.fill(0);
      this.#secret = next;
      this.#epoch++;
      this.#key = null;
    }
    this.#key ??= epochMacKey(this.#secret);
    return await this.#key;
  }

  /** Zeroes the secrets held. */
  erase(): void {
    this.#root.fill(0);
    this.#secret.fill(0);
  }
}
