/**
 * The audit log's writer. Events are buffered by `append` and made durable by `flush`: encrypted
 * (AES-256-CBC, a fresh random IV each), chained (each HMAC covers the previous record's), written
 * together and fsynced once per batch (`chain_writer.ts`). Concurrent `flush` calls share batches
 * (group commit), and a record is reported durable only after its fsync returned. Events nobody
 * flushes become durable within AUTO_FLUSH_DELAY_MS; administrative events other processes leave
 * in the inbox are taken in at open, while running and at close. One process writes: `open` takes
 * the directory's writer lock.
 *
 * The HMAC key moves to a new epoch at every file rotation and at least every EPOCH_AGE_MAX_MS;
 * the new epoch's key file replaces the old one before any record uses the new key.
 *
 * @module
 */

import { AuditError } from "./audit_error.ts";
import { auditPaths, loadEpochState } from "./audit_keys.ts";
import { ChainMac } from "./chain_mac.ts";
import type { AuditEvent, ChainHead } from "./audit_types.ts";
import { ChainWriter, type PendingRecord } from "./chain_writer.ts";
import {
  AUTO_FLUSH_DELAY_MS,
  EPOCH_CHECK_INTERVAL_MS,
  FILE_BYTES_MAX,
  FILE_BYTES_MIN,
  INBOX_FILES_PER_STEP,
  INBOX_POLL_INTERVAL_MS,
  PENDING_RECORDS_MAX,
} from "./constants.ts";
import { stampEvent } from "./event_stamp.ts";
import { errorText } from "./key_file.ts";
import { ServerKeyring } from "./keyring.ts";
import { scanForOpen } from "./log_opener.ts";
import { RecordDecrypter, RecordEncrypter } from "./record_cipher.ts";
import { openLogFile, takeWriterLock } from "./log_files.ts";
import { clearInbox, type InboxKeys, loadInboxKeys, readInbox } from "./admin_inbox.ts";

/** Longest server id: it is stamped into every record. */
const SERVER_ID_CHARS_MAX = 128;

/** Largest rotation size accepted: beyond this a file is too big to handle comfortably. */
const ROTATE_BYTES_LIMIT = 1024 * 1024 * 1024;

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

interface OpenedState {
  options: AuditLogOptions;
  lock: Deno.FsFile;
  inboxKeys: InboxKeys;
  recentInboxIds: Set<string>;
  writer: ChainWriter;
  head: { seq: number; macText: string };
  recovery: AuditRecovery;
}

/** An open audit log; one writer per data directory. */
export class AuditLog {
  /** What `open` found and repaired. */
  readonly recovery: AuditRecovery;
  #dataDir: string;
  #serverId: string;
  #now: () => Date;
  #writer: ChainWriter;
  #nextSeq: number;
  #durable: { seq: number; mac: string };
  #pending: PendingRecord[] = [];
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
    const inboxKeys = await loadInboxKeys(options.dataDir);
    const epoch = await loadEpochState(paths.epochKey);
    const opened = await scanForOpen({
      dataDir: options.dataDir,
      serverId: options.serverId,
      keyring: new ServerKeyring(epoch),
      decrypter: await RecordDecrypter.load(options.dataDir),
      ledgerHead: options.ledgerHead,
    });
    const { summary, repaired } = opened;
    const fileIndex = summary.lastFile?.index ?? 1;
    const { file, bytes } = await openLogFile(options.dataDir, fileIndex, { createNew: false });
    const writer = new ChainWriter({
      dataDir: options.dataDir,
      paths,
      rotateBytes: options.rotateBytes ?? FILE_BYTES_MAX,
      now: options.now ?? (() => new Date()),
      encrypter: await RecordEncrypter.load(options.dataDir),
      epoch,
      mac: await ChainMac.forEpoch(epoch.secret),
      file,
      fileIndex,
      fileBytes: bytes,
      chainMac: summary.lastMac,
    });
    const log = new AuditLog({
      options,
      lock,
      inboxKeys,
      recentInboxIds: opened.recentInboxIds,
      writer,
      head: { seq: summary.lastSeq, macText: summary.lastMacText },
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
  constructor(state: OpenedState) {
    this.recovery = state.recovery;
    this.#dataDir = state.options.dataDir;
    this.#serverId = state.options.serverId;
    this.#now = state.options.now ?? (() => new Date());
    this.#writer = state.writer;
    this.#nextSeq = state.head.seq + 1;
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
    this.#writer.close();
    this.#lock.close();
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
      this.#durable = await this.#writer.write(batch);
    } catch (error) {
      throw this.#fail(error);
    }
  }

  #idleCheck(): void {
    if (this.#closing || this.#failure !== null) return;
    this.#exclusive(() => this.#writer.stepEpochIfDue()).catch((error) => this.#fail(error));
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
        file: this.#writer.fileName,
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
