/**
 * Checks the chain MACs of many records at a time, for `ChainScanner`. Two kinds: on this thread
 * from a keyring (`KeyringMacChecker`), or on a worker thread that holds the keys
 * (`mac_worker_client.ts`), so that a reader of a large log checks MACs on one core while it
 * parses and decrypts on the other.
 *
 * @module
 */

import type { Bytes } from "./audit_crypto.ts";
import type { ChainMac } from "./chain_mac.ts";
import type { Keyring } from "./keyring.ts";

/** One record's MAC to check. */
export interface MacJob {
  epoch: number;
  /** The bytes the MAC covers (record_format.ts `macInput`), previous MAC included. */
  input: Bytes;
  /** The stored MAC. */
  tag: Bytes;
}

/** What a check found for one record. */
export const MAC_VERDICT = {
  /** The MAC does not verify. */
  bad: 0,
  /** The MAC verifies. */
  good: 1,
  /** No key for the record's epoch is held: not checked. */
  noKey: 2,
} as const;

/** Checks batches of MACs, answering in the order they were asked. */
export interface MacChecker {
  /** Newest epoch a record may carry, when the keys say (the writer's view); see Keyring. */
  readonly epochLimit: number | undefined;
  /**
   * Whether it reads the records' bytes from another thread, so that the scanner must take them
   * from shared memory (`RecordSlab`).
   */
  readonly readsSharedMemory: boolean;
  /**
   * Checks a batch. The bytes of the jobs must not change until the answer has arrived.
   *
   * @param jobs The records' MAC inputs and tags.
   * @returns One MAC_VERDICT per job, in order.
   * @throws {AuditError} When the keys cannot be used (the worker's own problems included).
   */
  check(jobs: readonly MacJob[]): Promise<Uint8Array<ArrayBuffer>>;
  /** Lets go of what it holds; the keys of a worker are erased there. */
  close(): void;
}

/** Checks MACs on this thread with a keyring. */
export class KeyringMacChecker implements MacChecker {
  readonly #keyring: Keyring;
  readonly #owned: boolean;
  /** The last check asked for: each waits for the one before, as a keyring moves one way. */
  #last: Promise<unknown> = Promise.resolve();

  /**
   * Wraps a keyring.
   *
   * @param keyring The MAC keys by epoch.
   * @param owned Whether `close` erases the keyring; otherwise its owner does.
   */
  constructor(keyring: Keyring, owned = false) {
    this.#keyring = keyring;
    this.#owned = owned;
  }

  /** @inheritdoc */
  get epochLimit(): number | undefined {
    return this.#keyring.epochLimit;
  }

  /** On this thread: ordinary memory does. */
  readonly readsSharedMemory = false;

  /** @inheritdoc */
  check(jobs: readonly MacJob[]): Promise<Uint8Array<ArrayBuffer>> {
    // a scanner asks for the next batch before the last is answered; two checks interleaved
    // on one keyring would step its epoch secret twice
    const verdicts = this.#last.then(() => checkWithKeyring(jobs, this.#keyring));
    this.#last = verdicts.catch(() => {});
    return verdicts;
  }

  /** @inheritdoc */
  close(): void {
    if (this.#owned) this.#keyring.erase();
  }
}

/**
 * Checks jobs with the MAC of each one's epoch, fetched from the keyring when the epoch changes.
 *
 * @param jobs What to check.
 * @param keyring The MAC keys by epoch.
 * @returns One MAC_VERDICT per job.
 */
export async function checkWithKeyring(
  jobs: readonly MacJob[],
  keyring: Keyring,
): Promise<Uint8Array<ArrayBuffer>> {
  const verdicts = new Uint8Array(jobs.length);
  let epoch = -1;
  let mac: ChainMac | null = null;
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i];
    if (job.epoch !== epoch) {
      mac = await keyring.chainMac(job.epoch);
      epoch = job.epoch;
    }
    verdicts[i] = mac === null
      ? MAC_VERDICT.noKey
      : mac.verify(job.tag, job.input)
      ? MAC_VERDICT.good
      : MAC_VERDICT.bad;
  }
  return verdicts;
}
