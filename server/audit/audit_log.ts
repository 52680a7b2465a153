/**
 * The audit log's writer. Events are buffered by `append` and made durable by `flush`: encrypted
 * (AES-256-CBC, a fresh random IV each), chained (each HMAC covers the previous record's), written
 * together and fsynced once per batch. Concurrent `flush` calls share batches (group commit), and
 * a record is reported durable only after its fsync returned.
 *
 * The HMAC key moves to a new epoch at every file rotation and at least every EPOCH_AGE_MAX_MS;
 * the new epoch's key file replaces the old one before any record uses the new key.
 *
 * @module
 */

import { AuditError } from "./audit_error.ts";
import { type Bytes, cbcEncrypt, hmacSign, randomBytes, toBase64Url } from "./audit_crypto.ts";
import {
  type AuditKeyPaths,
  auditPaths,
  epochMacKey,
  type EpochState,
  loadCipherKey,
  loadEpochState,
  nextEpochSecret,
  saveEpochState,
} from "./audit_keys.ts";
import type { AuditEvent, ChainHead } from "./audit_types.ts";
import {
  AUTO_FLUSH_DELAY_MS,
  CRYPTO_WINDOW,
  EPOCH_AGE_MAX_MS,
  EPOCH_CHECK_INTERVAL_MS,
  EPOCH_MAX,
  FILE_BYTES_MAX,
  FILE_BYTES_MIN,
  INBOX_FILES_PER_STEP,
  INBOX_POLL_INTERVAL_MS,
  IV_BYTES,
  PENDING_RECORDS_MAX,
} from "./constants.ts";
import { stampEvent } from "./event_stamp.ts";
import { errorText } from "./key_file.ts";
import { ServerKeyring } from "./keyring.ts";
import { scanForOpen } from "./log_opener.ts";
import { logFileName, openLogFile, takeWriterLock } from "./log_files.ts";
import { clearInbox, type InboxKeys, loadInboxKeys, readInbox } from "./admin_inbox.ts";
import { formatRecordLine, macInput, recordLineBytes } from "./record_format.ts";

/** Lines written per write call within one batch: bounds the batch's text in memory. */
const WRITE_CHUNK_BYTES = 1024 * 1024;

/** Longest server id: it is stamped into every record. */
const SERVER_ID_CHARS_MAX = 128;

/** Largest rotation size accepted: beyond this a file is too big to handle comfortably. */
const ROTATE_BYTES_LIMIT = 1024 * 1024 * 1024;

const ENCODER = new TextEncoder();

/** How to open the log. */
export interface AuditLogOptions {
  dataDir: string;
  /** This server's name, stamped into every record. */
  serverId: string;
  /** The chain head the ledger holds; the log must reach it and agree with it. */
  ledgerHead?: ChainHead;
  /** Rotation size in bytes [FILE_BYTES_MAX]; smaller in tests. */
  rotateBytes?: number;
  /** The clock [() => new Date()]. */
  now?: () => Date;
  /**
   * Called with the new chain head after a flush the log started by itself (delayed events, inbox
   * files), so the ledger's copy keeps up; callers of `flush()` store the head it returns.
   */
  onAutoFlush?: (head: ChainHead) => Promise<void> | void;
}

/** What `open` found and repaired. */
export interface AuditRecovery {
  /** A partial last line (a crash mid-write) was cut off and an `audit_repaired` record added. */
  tornLineRepaired: boolean;
  /** Highest `entryId` in any record, 0 when none: the bank re-appends newer journal entries. */
  lastEntryId: number;
  /** Records found at open, before any repair record. */
  records: number;
}

interface Sealed {
  seq: number;
  iv: Bytes;
  ct: Bytes;
}

interface WriterState {
  options: AuditLogOptions;
  lock: Deno.FsFile;
  inboxKeys: InboxKeys;
  recentInboxIds: Set<string>;
  paths: AuditKeyPaths;
  cipherKey: CryptoKey;
  epoch: EpochState;
  macKey: CryptoKey;
  file: Deno.FsFile;
  fileIndex: number;
  fileBytes: number;
  head: { seq: number; mac: Bytes; macText: string };
  recovery: AuditRecovery;
}

/** An open audit log; one writer per data directory. */
export class AuditLog {
  /** What `open` found and repaired. */
  readonly recovery: AuditRecovery;
  #paths: AuditKeyPaths;
  #dataDir: string;
  #serverId: string;
  #rotateBytes: number;
  #now: () => Date;
  #cipherKey: CryptoKey;
  #epoch: EpochState;
  #macKey: CryptoKey;
  #file: Deno.FsFile;
  #fileIndex: number;
  #fileBytes: number;
  #nextSeq: number;
  #chainMac: Bytes;
  #durable: { seq: number; mac: string };
  #pending: { seq: number; plain: Bytes }[] = [];
  #batch: Promise<void> | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #failure: AuditError | null = null;
  #closing = false;
  #closed = false;
  #closeRun: Promise<void> | null = null;
  #timer: ReturnType<typeof setInterval>;
  #lock: Deno.FsFile;
  #inboxKeys: InboxKeys;
  #recentInboxIds: Set<string>;
  #inboxTimer: ReturnType<typeof setInterval>;
  #inboxRun: Promise<void> | null = null;
  #autoFlushTimer: ReturnType<typeof setTimeout> | null = null;
  #autoFlushRun: Promise<void> = Promise.resolve();
  #onAutoFlush: AuditLogOptions["onAutoFlush"];
  #lastEntryId: number;

  /**
   * Opens the log of a data directory: scans and checks the whole chain with the server's current
   * key, cuts off a torn last line (and records that it did), and gets ready to append.
   *
   * @param options Data directory, server id, the ledger's chain head, rotation size, clock.
   * @returns The open log; see `recovery` for what was found.
   * @throws {AuditError} For any problem except a torn last line (bad MAC, gap, head ahead of the
   * log, missing or insecure keys); the bank must then refuse to start.
   */
  static async open(options: AuditLogOptions): Promise<AuditLog> {
    checkOpenOptions(options);
    const lock = await takeWriterLock(options.dataDir);
    let log: AuditLog;
    try {
      log = await AuditLog.#openLocked(options, lock);
    } catch (error) {
      lock.close(); // releases the lock
      throw error;
    }
    try {
      await log.flush(); // the repair record, if any
      await log.#takeInbox(); // events other processes left while no bank was running
    } catch (error) {
      await log.close().catch(() => {}); // stops the timers and releases the lock
      throw error;
    }
    return log;
  }

  static async #openLocked(options: AuditLogOptions, lock: Deno.FsFile): Promise<AuditLog> {
    const paths = auditPaths(options.dataDir);
    const cipherKey = await loadCipherKey(options.dataDir);
    const inboxKeys = await loadInboxKeys(options.dataDir);
    const epoch = await loadEpochState(paths.epochKey);
    const opened = await scanForOpen({
      dataDir: options.dataDir,
      serverId: options.serverId,
      keyring: new ServerKeyring(epoch),
      cipherKey,
      ledgerHead: options.ledgerHead,
    });
    const { summary, repaired } = opened;
    const fileIndex = summary.lastFile?.index ?? 1;
    const { file, bytes } = await openLogFile(options.dataDir, fileIndex, { createNew: false });
    const log = new AuditLog({
      options,
      lock,
      inboxKeys,
      recentInboxIds: opened.recentInboxIds,
      paths,
      cipherKey,
      epoch,
      macKey: await epochMacKey(epoch.secret),
      file,
      fileIndex,
      fileBytes: bytes,
      head: { seq: summary.lastSeq, mac: summary.lastMac, macText: summary.lastMacText },
      recovery: {
        tornLineRepaired: repaired !== undefined,
        lastEntryId: opened.lastEntryId,
        records: summary.records,
      },
    });
    if (repaired !== undefined) {
      log.append({
        type: "audit_repaired",
        file: repaired.file,
        line: repaired.line,
        bytesDiscarded: repaired.bytes,
      });
    }
    return log;
  }

  /**
   * Use `AuditLog.open`.
   *
   * @param state What open found and prepared.
   */
  constructor(state: WriterState) {
    this.recovery = state.recovery;
    this.#paths = state.paths;
    this.#dataDir = state.options.dataDir;
    this.#serverId = state.options.serverId;
    this.#rotateBytes = state.options.rotateBytes ?? FILE_BYTES_MAX;
    this.#now = state.options.now ?? (() => new Date());
    this.#cipherKey = state.cipherKey;
    this.#epoch = state.epoch;
    this.#macKey = state.macKey;
    this.#file = state.file;
    this.#fileIndex = state.fileIndex;
    this.#fileBytes = state.fileBytes;
    this.#nextSeq = state.head.seq + 1;
    this.#chainMac = state.head.mac;
    this.#durable = { seq: state.head.seq, mac: state.head.macText };
    this.#lock = state.lock;
    this.#inboxKeys = state.inboxKeys;
    this.#recentInboxIds = state.recentInboxIds;
    this.#onAutoFlush = state.options.onAutoFlush;
    this.#lastEntryId = state.recovery.lastEntryId;
    // forward security must not wait for traffic: an idle server still moves its key daily
    this.#timer = setInterval(() => this.#idleCheck(), EPOCH_CHECK_INTERVAL_MS);
    Deno.unrefTimer(Number(this.#timer));
    this.#inboxTimer = setInterval(() => this.#pollInbox(), INBOX_POLL_INTERVAL_MS);
    Deno.unrefTimer(Number(this.#inboxTimer));
  }

  /**
   * Highest ledger entry id among the records appended so far (an event's `entryId`, unless it is
   * `replayed`). The bank appends entries in id order, so every entry up to this one has a record.
   */
  get lastEntryId(): number {
    return this.#lastEntryId;
  }

  /**
   * Buffers one event; durable after the next `flush`. The writer stamps `seq`, `at` (ISO time)
   * and `serverId`.
   *
   * @param event The event; never a PIN or key.
   * @throws {TypeError} For an event without a type, with a secret-looking or stamped field, or
   * too large (see `stampEvent`).
   * @throws {AuditError} `closed` after close or a failed write; `overflow` when
   * PENDING_RECORDS_MAX events wait for a flush.
   */
  append(event: AuditEvent): void {
    if (this.#closing) throw new AuditError("closed", "Audit log is closed");
    this.#assertHealthy();
    if (this.#pending.length >= PENDING_RECORDS_MAX) {
      throw new AuditError("overflow", `${PENDING_RECORDS_MAX} events wait for a flush`);
    }
    const seq = this.#nextSeq;
    const plain = stampEvent(event, {
      seq,
      at: this.#now().toISOString(),
      serverId: this.#serverId,
    });
    this.#pending.push({ seq, plain });
    this.#nextSeq = seq + 1;
    const entryId = event.entryId;
    if (Number.isSafeInteger(entryId) && event.replayed !== true) {
      this.#lastEntryId = Math.max(this.#lastEntryId, entryId as number);
    }
    this.#scheduleAutoFlush();
  }

  /**
   * Makes every event appended so far durable (written and fsynced). Concurrent calls share
   * batches and fsyncs.
   *
   * @returns The new chain head, for the ledger to store.
   * @throws {AuditError} `io` when writing failed; the log then refuses further use.
   */
  async flush(): Promise<ChainHead> {
    if (this.#closed) throw new AuditError("closed", "Audit log is closed");
    const target = this.#nextSeq - 1;
    while (this.#durable.seq < target) {
      this.#assertHealthy();
      this.#batch ??= this.#exclusive(() => this.#writeBatch()).finally(() => {
        this.#batch = null;
      });
      await this.#batch;
    }
    return this.head();
  }

  /**
   * The newest durable record; records appended but not yet flushed are not part of it.
   *
   * @returns The chain head.
   */
  head(): ChainHead {
    return { serverId: this.#serverId, seq: this.#durable.seq, mac: this.#durable.mac };
  }

  /**
   * Takes what is left in the inbox, flushes, then closes the file, releases the writer lock and
   * forgets the keys. Further appends throw; calling it again returns the same promise.
   *
   * @returns Once closed.
   * @throws {AuditError} When the final flush fails (the file is closed anyway).
   */
  close(): Promise<void> {
    this.#closeRun ??= this.#close();
    return this.#closeRun;
  }

  async #close(): Promise<void> {
    clearInterval(this.#inboxTimer);
    await this.#inboxRun;
    this.#inboxRun = Promise.resolve(); // no poll starts from here on
    let failure: unknown = null;
    try {
      // what administrators did up to the stop goes into this run's log, not the next one's
      if (this.#failure === null) await this.#takeInbox();
    } catch (error) {
      failure = error;
    }
    this.#closing = true;
    try {
      if (this.#failure === null) await this.flush();
    } catch (error) {
      failure ??= error;
    }
    clearInterval(this.#timer);
    if (this.#autoFlushTimer !== null) clearTimeout(this.#autoFlushTimer);
    await this.#autoFlushRun;
    await this.#queue;
    this.#closed = true;
    this.#file.close();
    this.#lock.close();
    this.#epoch.secret.fill(0);
    if (failure !== null) throw failure;
  }

  /** Flushes soon after an append, so events outside transactions do not wait for one. */
  #scheduleAutoFlush(): void {
    if (this.#autoFlushTimer !== null) return;
    this.#autoFlushTimer = setTimeout(() => {
      this.#autoFlushTimer = null;
      this.#autoFlushRun = this.#autoFlushRun.then(() => this.#autoFlush());
    }, AUTO_FLUSH_DELAY_MS);
  }

  async #autoFlush(): Promise<void> {
    if (this.#closing || this.#failure !== null) return;
    const before = this.#durable.seq;
    try {
      await this.flush();
      if (this.#durable.seq > before) await this.#onAutoFlush?.(this.head());
    } catch {
      // the failure is kept in #failure: the next append or flush reports it to the bank
    }
  }

  /** Takes what other processes left in the inbox; one run at a time. */
  #pollInbox(): void {
    if (this.#closing || this.#failure !== null || this.#inboxRun !== null) return;
    this.#inboxRun = this.#takeInbox()
      .then(async (taken) => {
        if (taken) await this.#onAutoFlush?.(this.head());
      })
      .catch(() => {}) // a write failure is kept in #failure; a listing failure retries next time
      .finally(() => {
        this.#inboxRun = null;
      });
  }

  /**
   * Appends a record for each inbox file, makes them durable, then deletes the files. A crash
   * between the two leaves files whose records exist; their ids are among the newest records,
   * which open remembers, so they are deleted without a second record.
   */
  async #takeInbox(): Promise<boolean> {
    let taken = false;
    while (true) {
      const items = await readInbox(this.#dataDir, this.#inboxKeys, INBOX_FILES_PER_STEP);
      if (items.length === 0) return taken;
      for (const item of items) {
        if (this.#recentInboxIds.has(item.id)) continue;
        try {
          if (item.problem !== undefined) throw new TypeError(item.problem);
          this.append({ ...item.event!, inboxId: item.id });
        } catch (error) {
          if (!(error instanceof TypeError)) throw error;
          // a file nobody can vouch for is recorded as such, never silently dropped
          this.append({ type: "inbox_rejected", inboxId: item.id, reason: error.message });
          item.problem ??= error.message;
        }
      }
      await this.flush();
      await clearInbox(this.#dataDir, items);
      taken = true;
    }
  }

  async #writeBatch(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    try {
      await this.#stepEpochIfDue();
      let lines: string[] = [];
      let linesBytes = 0;
      for (let start = 0; start < batch.length; start += CRYPTO_WINDOW) {
        const slice = batch.slice(start, start + CRYPTO_WINDOW);
        const sealed = await Promise.all(slice.map((p) => this.#encrypt(p)));
        for (const record of sealed) {
          let expected = this.#lineBytes(record);
          if (this.#fileBytes + linesBytes + expected > this.#rotateBytes) {
            await this.#writeLines(lines, { sync: true });
            lines = [];
            linesBytes = 0;
            if (this.#fileBytes > 0) await this.#rotate();
            expected = this.#lineBytes(record);
          }
          const line = await this.#chain(record);
          if (line.length !== expected) throw new Error("Record line length is not as computed");
          lines.push(line);
          linesBytes += line.length;
          if (linesBytes < WRITE_CHUNK_BYTES) continue;
          await this.#writeLines(lines, { sync: false });
          lines = [];
          linesBytes = 0;
        }
      }
      await this.#writeLines(lines, { sync: true });
      this.#durable = { seq: batch[batch.length - 1].seq, mac: toBase64Url(this.#chainMac) };
    } catch (error) {
      throw this.#fail(error);
    }
  }

  #lineBytes(record: Sealed): number {
    return recordLineBytes({
      seq: record.seq,
      epoch: this.#epoch.epoch,
      ctBytes: record.ct.length,
    });
  }

  async #encrypt(pending: { seq: number; plain: Bytes }): Promise<Sealed> {
    const iv = randomBytes(IV_BYTES);
    const ct = await cbcEncrypt(this.#cipherKey, iv, pending.plain);
    return { seq: pending.seq, iv, ct };
  }

  /** MACs a record onto the chain with the current epoch's key: strictly in order. */
  async #chain(record: Sealed): Promise<string> {
    const epoch = this.#epoch.epoch;
    const mac = await hmacSign(this.#macKey, macInput({ ...record, epoch }, this.#chainMac));
    this.#chainMac = mac;
    return formatRecordLine({ ...record, epoch, mac });
  }

  async #writeLines(lines: string[], options: { sync: boolean }): Promise<void> {
    if (lines.length > 0) {
      const bytes = ENCODER.encode(lines.join(""));
      let written = 0;
      while (written < bytes.length) written += await this.#file.write(bytes.subarray(written));
      this.#fileBytes += bytes.length;
    }
    if (options.sync) await this.#file.syncData();
  }

  /** Next file, next epoch: the old file is complete and fsynced before the key moves. */
  async #rotate(): Promise<void> {
    this.#file.close();
    await this.#stepEpoch();
    this.#fileIndex++;
    const { file } = await openLogFile(this.#dataDir, this.#fileIndex, { createNew: true });
    this.#file = file;
    this.#fileBytes = 0;
  }

  async #stepEpochIfDue(): Promise<void> {
    const age = this.#now().getTime() - this.#epoch.since.getTime();
    if (age >= EPOCH_AGE_MAX_MS) await this.#stepEpoch();
  }

  /** Derives the next epoch, makes its key file durable, then forgets the old secret. */
  async #stepEpoch(): Promise<void> {
    const current = this.#epoch;
    if (current.epoch >= EPOCH_MAX) throw new AuditError("bad_epoch", "Key epochs are exhausted");
    const secret = await nextEpochSecret(current.secret);
    const next: EpochState = { epoch: current.epoch + 1, since: this.#now(), secret };
    await saveEpochState(this.#paths.epochKey, next);
    this.#macKey = await epochMacKey(secret);
    this.#epoch = next;
    current.secret.fill(0);
  }

  #idleCheck(): void {
    if (this.#closing || this.#failure !== null) return;
    this.#exclusive(() => this.#stepEpochIfDue()).catch((error) => this.#fail(error));
  }

  /** Runs disk work one piece at a time, in call order. */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    this.#queue = run.catch(() => {});
    return run;
  }

  #assertHealthy(): void {
    if (this.#failure === null) return;
    throw new AuditError("closed", "Audit log failed earlier and refuses further use", {
      cause: this.#failure,
    });
  }

  #fail(error: unknown): AuditError {
    this.#failure ??= error instanceof AuditError
      ? error
      : new AuditError("io", `Writing the audit log failed: ${errorText(error)}`, {
        file: logFileName(this.#fileIndex),
        cause: error,
      });
    return this.#failure;
  }
}

function checkOpenOptions(options: AuditLogOptions): void {
  const { serverId, rotateBytes, ledgerHead } = options;
  if (typeof options.dataDir !== "string" || options.dataDir.length === 0) {
    throw new TypeError("dataDir must be a non-empty path");
  }
  if (
    typeof serverId !== "string" || serverId.length === 0 || serverId.length > SERVER_ID_CHARS_MAX
  ) {
    throw new TypeError(`serverId must be a string of 1 to ${SERVER_ID_CHARS_MAX} characters`);
  }
  if (
    rotateBytes !== undefined &&
    (!Number.isSafeInteger(rotateBytes) || rotateBytes < FILE_BYTES_MIN ||
      rotateBytes > ROTATE_BYTES_LIMIT)
  ) {
    throw new RangeError(
      `rotateBytes must be an integer from ${FILE_BYTES_MIN} to ${ROTATE_BYTES_LIMIT}`,
    );
  }
  if (ledgerHead === undefined) return;
  if (
    !Number.isSafeInteger(ledgerHead.seq) || ledgerHead.seq < 0 ||
    typeof ledgerHead.mac !== "string"
  ) {
    throw new TypeError("ledgerHead must have a non-negative seq and a mac string");
  }
  if (ledgerHead.serverId !== serverId) {
    throw new AuditError(
      "wrong_server",
      `Ledger head belongs to server ${JSON.stringify(ledgerHead.serverId)}, not ${
        JSON.stringify(serverId)
      }`,
    );
  }
}
