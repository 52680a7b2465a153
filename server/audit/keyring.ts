/**
 * Which MAC keys a reader holds. The server holds one epoch (its current one) and can derive
 * later ones; the holder of the offline key holds them all, derived forward on demand.
 *
 * @module
 */

import type { Bytes } from "./audit_crypto.ts";
import { epochMacKey, type EpochState, nextEpochSecret } from "./audit_keys.ts";
import { ChainMac } from "./chain_mac.ts";

/** MAC keys by epoch. */
export interface Keyring {
  /**
   * The HMAC key of an epoch.
   *
   * @param epoch The record's epoch.
   * @returns The key, or null when this keyring cannot check that epoch.
   */
  macKey(epoch: number): Promise<CryptoKey | null>;
  /**
   * The same key as a synchronous {@link ChainMac}, which readers check each record with.
   *
   * @param epoch The record's epoch.
   * @returns The MAC, or null when this keyring cannot check that epoch.
   */
  chainMac(epoch: number): Promise<ChainMac | null>;
  /** Newest epoch a record may carry, when known: nothing is written before its key exists. */
  readonly epochLimit: number | undefined;
  /** Whether every epoch can be checked. */
  readonly complete: boolean;
  /** Forgets the secrets held. */
  erase(): void;
}

/** The writer's view at open: only the current epoch can be checked, and none may be newer. */
export class ServerKeyring implements Keyring {
  #epoch: number;
  #key: Promise<CryptoKey>;
  #mac: Promise<ChainMac>;

  /**
   * Holds the current epoch's key.
   *
   * @param state The epoch key file's contents; the secret is not kept.
   */
  constructor(state: EpochState) {
    this.#epoch = state.epoch;
    this.#key = epochMacKey(state.secret);
    this.#mac = ChainMac.forEpoch(state.secret);
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

  /** @inheritdoc */
  chainMac(epoch: number): Promise<ChainMac | null> {
    return epoch === this.#epoch ? this.#mac : Promise.resolve(null);
  }

  /** Nothing raw is held: the CryptoKey is non-extractable. */
  erase(): void {}
}

/**
 * Every epoch from a starting one on, derived forward on demand. With epoch secret 0 (the offline
 * key) that is every epoch; with the server's current epoch secret it is the epochs a running
 * writer may have moved to since a reader loaded the key (earlier epochs stay out of reach).
 */
export class ForwardKeyring implements Keyring {
  #root: Bytes;
  #rootEpoch: number;
  #epoch: number;
  #secret: Bytes;
  #key: Promise<CryptoKey> | null = null;
  #mac: Promise<ChainMac> | null = null;

  /**
   * Holds the secret of one epoch.
   *
   * @param root The secret of `rootEpoch`; a copy is kept until `erase()`.
   * @param rootEpoch Its epoch: 0 for the offline key.
   */
  constructor(root: Bytes, rootEpoch: number) {
    this.#root = root.slice();
    this.#rootEpoch = rootEpoch;
    this.#epoch = rootEpoch;
    this.#secret = root.slice();
  }

  /** No limit: later epochs are derived (the scanner bounds each jump by EPOCH_GAP_MAX). */
  get epochLimit(): undefined {
    return undefined;
  }

  /** Every epoch can be checked when the keyring starts at epoch 0. */
  get complete(): boolean {
    return this.#rootEpoch === 0;
  }

  /** @inheritdoc */
  async macKey(epoch: number): Promise<CryptoKey | null> {
    if (!await this.#moveTo(epoch)) return null;
    this.#key ??= epochMacKey(this.#secret);
    return await this.#key;
  }

  /** @inheritdoc */
  async chainMac(epoch: number): Promise<ChainMac | null> {
    if (epoch === this.#epoch && this.#mac !== null) return await this.#mac; // the common case
    if (!await this.#moveTo(epoch)) return null;
    this.#mac ??= ChainMac.forEpoch(this.#secret);
    return await this.#mac;
  }

  /** Derives the secret of `epoch`; false when it lies before the root (out of reach). */
  async #moveTo(epoch: number): Promise<boolean> {
    if (epoch < this.#rootEpoch) return false; // the step is one-way: earlier epochs are gone
    if (epoch < this.#epoch) {
      this.#secret.fill(0); // readers go forward; going back starts again from the root
      this.#secret = this.#root.slice();
      this.#epoch = this.#rootEpoch;
      this.#key = null;
      this.#mac = null;
    }
    while (this.#epoch < epoch) {
      const next = await nextEpochSecret(this.#secret);
      this.#secret.fill(0);
      this.#secret = next;
      this.#epoch++;
      this.#key = null;
      this.#mac = null;
    }
    return true;
  }

  /** Zeroes the secrets held. */
  erase(): void {
    this.#root.fill(0);
    this.#secret.fill(0);
  }
}
