/**
 * The disk side of the audit log's writer: seals records onto the chain (AES-256-CBC with a fresh
 * IV each, then HMAC-SHA256 over the previous MAC, strictly in order), writes them with few write
 * calls, fsyncs once per batch, rotates files at the size limit and steps the key epoch at every
 * rotation and when the epoch is a day old. `AuditLog` calls it one batch at a time.
 *
 * @module
 */

import { AuditError } from "./audit_error.ts";
import { type Bytes, randomBytes, toBase64Url } from "./audit_crypto.ts";
import {
  type AuditKeyPaths,
  type EpochState,
  nextEpochSecret,
  saveEpochState,
} from "./audit_keys.ts";
import { ChainMac } from "./chain_mac.ts";
import { EPOCH_AGE_MAX_MS, EPOCH_MAX, IV_BYTES } from "./constants.ts";
import { logFileName, openLogFile } from "./log_files.ts";
import type { RecordEncrypter } from "./record_cipher.ts";
import { formatRecordLine, macInput, recordLineBytes } from "./record_format.ts";

/** Lines written per write call within one batch: bounds the batch's text in memory. */
const WRITE_CHUNK_BYTES = 1024 * 1024;

const ENCODER = new TextEncoder();

/** A stamped event waiting to be written. */
export interface PendingRecord {
  seq: number;
  /** The UTF-8 JSON of the stamped event. */
  plain: Bytes;
}

interface Sealed {
  seq: number;
  iv: Bytes;
  ct: Bytes;
}

/** What the writer continues from: keys, the open last file, and the chain's last MAC. */
export interface ChainWriterState {
  dataDir: string;
  paths: AuditKeyPaths;
  rotateBytes: number;
  now: () => Date;
  encrypter: RecordEncrypter;
  /** The current epoch; its secret is zeroed when the epoch moves on or the writer closes. */
  epoch: EpochState;
  /** The current epoch's MAC (synchronous, see chain_mac.ts). */
  mac: ChainMac;
  file: Deno.FsFile;
  fileIndex: number;
  fileBytes: number;
  /** MAC of the last record on disk (GENESIS_MAC for an empty log). */
  chainMac: Bytes;
}

/** Appends sealed records to the log files. */
export class ChainWriter {
  #state: ChainWriterState;

  /**
   * Continues the chain where `AuditLog.open` found it.
   *
   * @param state The keys, the open last file and the last MAC.
   */
  constructor(state: ChainWriterState) {
    this.#state = { ...state };
  }

  /** Name of the file being written, for error messages. */
  get fileName(): string {
    return logFileName(this.#state.fileIndex);
  }

  /**
   * Seals, writes and fsyncs a batch, rotating files as needed.
   *
   * @param batch Records in sequence order, continuing the chain.
   * @returns The new chain head: the batch's last seq and its MAC as stored.
   * @throws {AuditError} `bad_epoch` when epochs run out; any file system error as it is.
   */
  async write(batch: PendingRecord[]): Promise<{ seq: number; mac: string }> {
    const state = this.#state;
    await this.stepEpochIfDue();
    let lines: string[] = [];
    let linesBytes = 0;
    for (const pending of batch) {
      const record = this.#encrypt(pending);
      let expected = this.#lineBytes(record);
      if (state.fileBytes + linesBytes + expected > state.rotateBytes) {
        await this.#writeLines(lines, { sync: true });
        lines = [];
        linesBytes = 0;
        if (state.fileBytes > 0) await this.#rotate();
        expected = this.#lineBytes(record);
      }
      const line = this.#chain(record);
      if (line.length !== expected) throw new Error("Record line length is not as computed");
      lines.push(line);
      linesBytes += line.length;
      if (linesBytes < WRITE_CHUNK_BYTES) continue;
      await this.#writeLines(lines, { sync: false });
      lines = [];
      linesBytes = 0;
    }
    await this.#writeLines(lines, { sync: true });
    return { seq: batch[batch.length - 1].seq, mac: toBase64Url(state.chainMac) };
  }

  /** Moves to the next epoch when the current one has reached EPOCH_AGE_MAX_MS. */
  async stepEpochIfDue(): Promise<void> {
    const age = this.#state.now().getTime() - this.#state.epoch.since.getTime();
    if (age >= EPOCH_AGE_MAX_MS) await this.#stepEpoch();
  }

  /** Closes the file and zeroes the epoch secret. */
  close(): void {
    try {
      this.#state.file.close();
    } catch {
      // already closed by a rotation that failed half-way
    }
    this.#state.epoch.secret.fill(0);
  }

  #lineBytes(record: Sealed): number {
    const epoch = this.#state.epoch.epoch;
    return recordLineBytes({ seq: record.seq, epoch, ctBytes: record.ct.length });
  }

  #encrypt(pending: PendingRecord): Sealed {
    const iv = randomBytes(IV_BYTES);
    const ct = this.#state.encrypter.encrypt(iv, pending.plain);
    return { seq: pending.seq, iv, ct };
  }

  /**
   * MACs a record onto the chain with the current epoch's key: strictly in order, and without
   * yielding, so a batch's chain is not interleaved with the rest of the bank's work.
   */
  #chain(record: Sealed): string {
    const state = this.#state;
    const epoch = state.epoch.epoch;
    const mac = state.mac.sign(macInput({ ...record, epoch }, state.chainMac));
    state.chainMac = mac;
    return formatRecordLine({ ...record, epoch, mac });
  }

  async #writeLines(lines: string[], options: { sync: boolean }): Promise<void> {
    const state = this.#state;
    if (lines.length > 0) {
      const bytes = ENCODER.encode(lines.join(""));
      let written = 0;
      while (written < bytes.length) written += await state.file.write(bytes.subarray(written));
      state.fileBytes += bytes.length;
    }
    if (options.sync) await state.file.syncData();
  }

  /** Next file, next epoch: the old file is complete and fsynced before the key moves. */
  async #rotate(): Promise<void> {
    const state = this.#state;
    state.file.close();
    await this.#stepEpoch();
    state.fileIndex++;
    const { file } = await openLogFile(state.dataDir, state.fileIndex, { createNew: true });
    state.file = file;
    state.fileBytes = 0;
  }

  /** Derives the next epoch, makes its key file durable, then forgets the old secret. */
  async #stepEpoch(): Promise<void> {
    const state = this.#state;
    const current = state.epoch;
    if (current.epoch >= EPOCH_MAX) throw new AuditError("bad_epoch", "Key epochs are exhausted");
    const secret = await nextEpochSecret(current.secret);
    const next: EpochState = { epoch: current.epoch + 1, since: state.now(), secret };
    await saveEpochState(state.paths.epochKey, next);
    state.mac = await ChainMac.forEpoch(secret);
    state.epoch = next;
    current.secret.fill(0);
  }
}
