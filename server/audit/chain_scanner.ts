/**
 * Walks the whole chain in order, file by file and line by line, in bounded memory, checking as
 * it goes: record syntax, sequence numbers, epochs, every MAC the keys can check, the ledger
 * head, and (when decrypting) that each record decrypts to an event carrying its own sequence
 * number. The structure of each record is checked as it is read; the MACs of a read chunk's
 * records go to the MAC checker together, which may check them on another thread while the next
 * chunk is read (`mac_checker.ts`). At least CRYPTO_WINDOW records with a MAC verdict are held
 * back before they are released, so that a failed MAC can be blamed on the record or on the key
 * (see `#macProblem`). Results come out in order, and the first problem in line order is reported.
 *
 * Lines in the canonical layout are taken apart from the bytes read (`record_parser.ts`); any
 * other line goes through `parseRecordLine`, which names what is wrong with it.
 *
 * @module
 */

import { AuditError } from "./audit_error.ts";
import { type Bytes, toBase64Url } from "./audit_crypto.ts";
import type { ChainHead } from "./audit_types.ts";
import {
  CRYPTO_WINDOW,
  EPOCH_GAP_MAX,
  MAC_BATCHES_AHEAD,
  MAC_BYTES,
  WRONG_KEY_FOLLOWERS,
} from "./constants.ts";
import { LineReader } from "./line_reader.ts";
import { listLogFiles, type LogFile } from "./log_files.ts";
import { MAC_VERDICT, type MacChecker, type MacJob } from "./mac_checker.ts";
import type { RecordDecrypter } from "./record_cipher.ts";
import { GENESIS_MAC, macInput, parseRecordLine } from "./record_format.ts";
import { parseCanonicalRecord, RecordSlab, type RecordView } from "./record_parser.ts";

const DECODER = new TextDecoder("utf-8", { fatal: true });

/** What to check and how to treat a torn last line. */
export interface ScanOptions {
  dataDir: string;
  /** Checks the MACs; its owner closes it after the scan. */
  macs: MacChecker;
  /** When given, every record is decrypted and its event returned. */
  decrypter?: RecordDecrypter;
  /**
   * With a decrypter: leave the events of records whose MAC verified as bytes (`plain`) instead
   * of parsing them (`event`). Such a plaintext is the writer's own JSON, so it is only checked
   * to begin with its record's stamp, to end with `}` and to be printable ASCII (`printableAsIs`);
   * any other record is parsed and checked in full. For readers that print the events as they are.
   */
  eventsAsBytes?: boolean;
  ledgerHead?: ChainHead;
  /**
   * "keep": a partial last line is described in the summary for the writer to repair.
   * "reject": it is a `truncated` problem, unless the file grew since the scan began (a live
   * writer is mid-write), in which case it is left out.
   */
  tornTail: "keep" | "reject";
  onProgress?: (bytesRead: number, bytesTotal: number) => void;
}

/** One record that passed every check this scan could make. */
export interface ScannedRecord {
  file: string;
  line: number;
  seq: number;
  epoch: number;
  iv: Bytes;
  ct: Bytes;
  /** False when the keyring lacked this epoch's key (an old epoch without the offline key). */
  macChecked: boolean;
  /** The decrypted event, when a cipher key was given (unless left as bytes: `eventsAsBytes`). */
  event?: Record<string, unknown>;
  /**
   * The event's UTF-8 JSON as decrypted, when a cipher key was given: a view into a buffer shared
   * with the records decrypted with it.
   */
  plain?: Bytes;
}

/** A partial last line left by a crash. */
export interface TornTail {
  file: string;
  path: string;
  line: number;
  /** Where the partial line starts: the file's size after repair. */
  offset: number;
  bytes: number;
}

/** What a finished scan saw. */
export interface ScanSummary {
  records: number;
  files: number;
  /** Distinct epochs among the records. */
  epochs: number;
  firstEpoch?: number;
  lastEpoch?: number;
  uncheckedRecords: number;
  lastSeq: number;
  lastMac: Bytes;
  lastMacText: string;
  /** The last log file and its size up to the last complete line. */
  lastFile?: LogFile;
  torn?: TornTail;
}

interface Pending {
  record: ScannedRecord;
  /** What the MAC checker is asked about this record. */
  job: MacJob;
  /** Whether the MAC verified; null when no key for this epoch is held; undefined until known. */
  mac: boolean | null | undefined;
  /** The plaintext (null when it did not decrypt), once `decrypted`. */
  plain: Bytes | null;
  decrypted: boolean;
}

/** One pass over a log; create a new scanner for each pass. */
export class ChainScanner {
  #options: ScanOptions;
  /** Records read and not yet released, in order; the first `#known` have their MAC verdicts. */
  #window: Pending[] = [];
  #known = 0;
  /** Records whose MACs have not been sent to the checker yet. */
  #unsent: Pending[] = [];
  /** Batches sent to the checker whose verdicts are not applied yet, oldest first. */
  #checking: { pending: Pending[]; verdicts: Promise<Uint8Array> }[] = [];
  #verifiedEpoch = -1;
  #slab: RecordSlab;
  /** Records that passed every check, not yet yielded. */
  #ready: ScannedRecord[] = [];
  #bytesRead = 0;
  #bytesTotal = 0;
  #summary: ScanSummary = {
    records: 0,
    files: 0,
    epochs: 0,
    uncheckedRecords: 0,
    lastSeq: 0,
    lastMac: GENESIS_MAC,
    lastMacText: GENESIS_MAC.toBase64({ alphabet: "base64url", omitPadding: true }),
  };

  /**
   * Prepares a scan.
   *
   * @param options What to check.
   */
  constructor(options: ScanOptions) {
    this.#options = options;
    this.#slab = new RecordSlab(options.macs.readsSharedMemory);
  }

  /** The totals; complete once `records()` has finished without throwing. */
  get summary(): ScanSummary {
    this.#summary.lastMacText = toBase64Url(this.#summary.lastMac); // canonical: as stored
    return this.#summary;
  }

  /**
   * Yields every record in chain order after it passed its checks.
   *
   * @returns The records.
   * @throws {AuditError} At the first problem, after yielding every record before it.
   */
  async *records(): AsyncGenerator<ScannedRecord> {
    for await (const batch of this.batches()) yield* batch;
  }

  /**
   * Yields every record in chain order after it passed its checks, in batches of the records
   * checked from one read chunk (a few hundred): a reader's loop then waits once per batch, not
   * once per record.
   *
   * @returns The batches, never empty.
   * @throws {AuditError} At the first problem, after yielding every record before it.
   */
  async *batches(): AsyncGenerator<ScannedRecord[]> {
    try {
      const files = await listLogFiles(this.#options.dataDir);
      this.#bytesTotal = files.reduce((sum, file) => sum + file.bytes, 0);
      this.#summary.files = files.length;
      for (const [i, file] of files.entries()) {
        yield* this.#scanFile(file, i === files.length - 1);
      }
      await this.#settleAll();
      this.#checkHeadReached();
    } catch (error) {
      // every record before the problem comes first; one held back may hold an earlier problem
      let problem = error;
      try {
        await this.#settleAll();
      } catch (earlier) {
        problem = earlier;
      }
      if (this.#ready.length > 0) yield this.#takeReady();
      throw problem;
    }
    if (this.#ready.length > 0) yield this.#takeReady();
  }

  async *#scanFile(file: LogFile, isLast: boolean): AsyncGenerator<ScannedRecord[]> {
    let handle: Deno.FsFile;
    try {
      handle = await Deno.open(file.path, { read: true });
    } catch (error) {
      throw new AuditError("io", "Cannot open log file", { file: file.name, cause: error });
    }
    try {
      const reader = new LineReader({
        file: handle,
        name: file.name,
        bytes: file.bytes,
        onBytes: (bytes) => this.#progress(bytes),
      });
      let firstOfFile = true;
      for (;;) {
        const line = reader.next();
        if (line === null) {
          // this chunk's MACs are checked while the next one is read: apply the previous verdicts
          await this.#applyVerdicts(MAC_BATCHES_AHEAD);
          if (this.#ready.length > 0) yield this.#takeReady();
          if (await reader.fill()) continue;
          break;
        }
        const where = { file: file.name, line: line.number };
        const record = parseCanonicalRecord(reader.bytes, line.start, line.end, this.#slab) ??
          parseOtherLayout(reader.text(line), where);
        const problem = this.#structureProblem(record, firstOfFile && this.#summary.records > 0);
        if (problem !== null) throw new AuditError(problem.code, problem.message, where);
        firstOfFile = false;
        this.#enqueue(record, where);
      }
      this.#summary.lastFile = { ...file, bytes: reader.completeBytes };
      if (reader.tailBytes > 0) {
        await this.#settleAll(); // the records before a torn tail are checked before it is judged
        await this.#handleTail(file, reader, isLast);
      }
    } finally {
      handle.close();
    }
  }

  #takeReady(): ScannedRecord[] {
    const batch = this.#ready;
    this.#ready = [];
    return batch;
  }

  #structureProblem(
    record: RecordView,
    startsFile: boolean,
  ): { code: "bad_sequence" | "bad_epoch" | "broken_chain"; message: string } | null {
    const summary = this.#summary;
    if (record.seq !== summary.lastSeq + 1) {
      return {
        code: "bad_sequence",
        message: `Record has seq ${record.seq}, expected ${summary.lastSeq + 1}`,
      };
    }
    const previous = summary.lastEpoch ?? 0;
    if (record.epoch < previous) {
      return { code: "bad_epoch", message: `Epoch ${record.epoch} follows epoch ${previous}` };
    }
    if (record.epoch - previous > EPOCH_GAP_MAX) {
      return { code: "bad_epoch", message: `Epoch jumps from ${previous} to ${record.epoch}` };
    }
    if (startsFile && record.epoch === previous) {
      return { code: "bad_epoch", message: `File starts in epoch ${record.epoch}, not a new one` };
    }
    const limit = this.#options.macs.epochLimit;
    if (limit !== undefined && record.epoch > limit) {
      return {
        code: "bad_epoch",
        message: `Epoch ${record.epoch} is newer than the server's key (epoch ${limit})`,
      };
    }
    const head = this.#options.ledgerHead;
    if (head !== undefined && record.seq === head.seq && toBase64Url(record.mac) !== head.mac) {
      // both values are public, stored MACs: a plain comparison leaks nothing
      return {
        code: "broken_chain",
        message: `Record differs from the ledger head at seq ${head.seq}`,
      };
    }
    return null;
  }

  /** Holds a record in the window, its MAC to be sent to the checker with the chunk's others. */
  #enqueue(record: RecordView, where: { file: string; line: number }): void {
    const summary = this.#summary;
    const input = record.macInput;
    input.set(summary.lastMac, input.length - MAC_BYTES);
    const pending: Pending = {
      record: {
        file: where.file,
        line: where.line,
        seq: record.seq,
        epoch: record.epoch,
        iv: record.iv,
        ct: record.ct,
        macChecked: false,
      },
      job: { epoch: record.epoch, input, tag: record.mac },
      mac: undefined,
      plain: null,
      decrypted: false,
    };
    this.#window.push(pending);
    this.#unsent.push(pending);
    if (record.epoch !== summary.lastEpoch) summary.epochs++;
    summary.firstEpoch ??= record.epoch;
    summary.lastEpoch = record.epoch;
    summary.records++;
    summary.lastSeq = record.seq;
    summary.lastMac = record.mac;
  }

  /**
   * Sends the MACs not yet sent, applies the verdicts of all but the newest `ahead` batches sent,
   * and settles the records that then have at least CRYPTO_WINDOW known verdicts behind them.
   */
  async #applyVerdicts(ahead: number): Promise<void> {
    if (this.#unsent.length > 0) {
      const verdicts = this.#options.macs.check(this.#unsent.map((pending) => pending.job));
      verdicts.catch(() => {}); // awaited below in turn; a rejection is not left unhandled
      this.#checking.push({ pending: this.#unsent, verdicts });
      this.#unsent = [];
    }
    while (this.#checking.length > ahead) {
      const { pending, verdicts } = this.#checking[0];
      let codes: Uint8Array;
      try {
        codes = await verdicts;
      } catch (error) {
        // the checker failed (a dead worker): the records with verdicts come first, and may hold
        // an earlier problem, which then is the one reported
        while (this.#known > 0) this.#ready.push(this.#settleFirst());
        throw error;
      }
      this.#checking.shift();
      pending.forEach((p, i) => {
        p.mac = codes[i] === MAC_VERDICT.noKey ? null : codes[i] === MAC_VERDICT.good;
      });
      this.#known += pending.length;
    }
    while (this.#known >= CRYPTO_WINDOW) this.#ready.push(this.#settleFirst());
  }

  /** Settles every record held back, in order. */
  async #settleAll(): Promise<void> {
    await this.#applyVerdicts(0);
    while (this.#window.length > 0) this.#ready.push(this.#settleFirst());
  }

  /** Decrypts the records held back that are not yet decrypted, with one native call. */
  #decryptWindow(decrypter: RecordDecrypter): void {
    const waiting = this.#window.filter((pending) => !pending.decrypted);
    const plains = decrypter.decryptMany(waiting.map((pending) => pending.record));
    waiting.forEach((pending, i) => {
      pending.plain = plains[i];
      pending.decrypted = true;
    });
  }

  /** Releases the oldest record held back (its verdict known); a problem leaves it in place. */
  #settleFirst(): ScannedRecord {
    const pending = this.#window[0];
    const { record } = pending;
    if (pending.mac === false) throw this.#macProblem(pending);
    record.macChecked = pending.mac !== null;
    const { decrypter, eventsAsBytes } = this.#options;
    if (decrypter !== undefined) {
      if (!pending.decrypted) this.#decryptWindow(decrypter);
      const plain = pending.plain;
      if (plain !== null) record.plain = plain;
      const leaveAsBytes = eventsAsBytes && pending.mac === true &&
        printableAsIs(plain, record.seq);
      if (!leaveAsBytes) record.event = decodeEvent(record, plain);
    }
    this.#window.shift();
    this.#known--;
    if (pending.mac) this.#verifiedEpoch = record.epoch;
    else this.#summary.uncheckedRecords++;
    return record;
  }

  /**
   * Names a failed MAC. An edited or foreign record fails its own MAC and, through its stored MAC,
   * the next record's; a key that is not this log's fails every record. So when no record of the
   * epoch has verified yet and none of the later ones of that epoch with a known verdict verifies
   * either (at least WRONG_KEY_FOLLOWERS of them), the key is blamed.
   */
  #macProblem(failed: Pending): AuditError {
    const { record } = failed;
    const where = { file: record.file, line: record.line };
    const message = `MAC of record seq ${record.seq} does not verify`;
    if (this.#verifiedEpoch === record.epoch) return new AuditError("bad_mac", message, where);
    const followers = this.#window.slice(0, this.#known)
      .filter((p) => p !== failed && p.record.epoch === record.epoch);
    for (const follower of followers) {
      if (follower.mac !== false) {
        return new AuditError("bad_mac", message, where);
      }
    }
    if (followers.length >= WRONG_KEY_FOLLOWERS) {
      const last = followers[followers.length - 1].record.seq;
      return new AuditError(
        "wrong_key",
        `No record of epoch ${record.epoch} verifies with this key (seq ${record.seq} to ${last})`,
        where,
      );
    }
    // too few records of this epoch to tell an edited record from a foreign key
    return new AuditError(
      "bad_mac",
      `${message} (an edited record, or a key not of this log)`,
      where,
    );
  }

  async #handleTail(file: LogFile, reader: LineReader, isLast: boolean): Promise<void> {
    const where = { file: file.name, line: reader.lineCount + 1 };
    if (!isLast) throw new AuditError("malformed", "Log file does not end with a newline", where);
    const torn = {
      file: file.name,
      path: file.path,
      line: reader.lineCount + 1,
      offset: reader.completeBytes,
      bytes: reader.tailBytes,
    };
    if (this.#options.tornTail === "keep") {
      this.#summary.torn = torn;
      return;
    }
    const grown = await Deno.stat(file.path).then((info) => info.size > file.bytes, () => false);
    if (grown) return; // a live writer is appending this line right now
    throw new AuditError(
      "truncated",
      `Last line is incomplete (${torn.bytes} bytes, a crash mid-write); the bank repairs it when it next starts`,
      where,
    );
  }

  #checkHeadReached(): void {
    const head = this.#options.ledgerHead;
    const summary = this.#summary;
    if (head === undefined || head.seq <= summary.lastSeq) return;
    throw new AuditError(
      "truncated",
      `Log ends at seq ${summary.lastSeq} but the ledger head is at seq ${head.seq}: records were cut off`,
      { file: summary.lastFile?.name ?? "audit/" },
    );
  }

  #progress(bytes: number): void {
    this.#bytesRead += bytes;
    this.#options.onProgress?.(this.#bytesRead, this.#bytesTotal);
  }
}

/** Parses a line not in the canonical layout, to name what is wrong with it. */
function parseOtherLayout(text: string, where: { file: string; line: number }): RecordView {
  const record = parseRecordLine(text);
  if (typeof record === "string") throw new AuditError("malformed", record, where);
  return { ...record, macInput: macInput(record, GENESIS_MAC) };
}

/** The start of every stamped event's JSON, up to its seq, and what follows the seq. */
const STAMP_SEQ = new TextEncoder().encode('{"seq":');
const STAMP_AT = new TextEncoder().encode(',"at":"');

/** Printable ASCII, and the last byte of every event's JSON. */
const PRINTABLE_FIRST = 0x20;
const PRINTABLE_LAST = 0x7e;
const CLOSING_BRACE = 0x7d;

/**
 * Whether a verified record's plaintext may be printed as it is, unparsed: it begins the way the
 * writer's JSON of this record's event does (`{"seq":SEQ,"at":"`), ends with `}`, and holds only
 * printable ASCII. A wrong cipher key gives random bytes, which miss the stamp (odds about
 * 2^-120). So does a block garbled by an edit that someone holding the MAC keys but not the
 * master key made and MACed again (CBC lets such an edit set one block at the price of garbling
 * the one before it): 16 random bytes are all printable with odds of about 10^-7. Anything else,
 * non-ASCII text included, goes to the full parse, which names the problem.
 */
function printableAsIs(plain: Bytes | null, seq: number): boolean {
  if (plain === null) return false;
  const digits = String(seq);
  if (plain.length < STAMP_SEQ.length + digits.length + STAMP_AT.length + 1) return false;
  let at = 0;
  for (const byte of STAMP_SEQ) if (plain[at++] !== byte) return false;
  for (let i = 0; i < digits.length; i++) if (plain[at++] !== digits.charCodeAt(i)) return false;
  for (const byte of STAMP_AT) if (plain[at++] !== byte) return false;
  for (; at < plain.length; at++) {
    if (plain[at] < PRINTABLE_FIRST || plain[at] > PRINTABLE_LAST) return false;
  }
  return plain[plain.length - 1] === CLOSING_BRACE;
}

/**
 * Decodes a decrypted record into its event and checks that it belongs to that record.
 *
 * @param record The record it came from.
 * @param plain The plaintext, or null when decryption failed.
 * @returns The event.
 * @throws {AuditError} `wrong_key`, `malformed` or `bad_sequence`.
 */
export function decodeEvent(record: ScannedRecord, plain: Bytes | null): Record<string, unknown> {
  const where = { file: record.file, line: record.line };
  // after a verified MAC the ciphertext is authentic, so only a wrong key explains garbage
  const code = record.macChecked ? "wrong_key" : "malformed";
  let value: unknown = null;
  try {
    value = plain === null ? null : JSON.parse(DECODER.decode(plain));
  } catch {
    value = null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AuditError(code, `Record seq ${record.seq} does not decrypt to an event`, where);
  }
  const event = value as Record<string, unknown>;
  if (event.seq !== record.seq) {
    throw new AuditError(
      "bad_sequence",
      `Encrypted event carries seq ${String(event.seq)}, record has ${record.seq}`,
      where,
    );
  }
  if (typeof event.at !== "string" || typeof event.type !== "string") {
    throw new AuditError("malformed", `Event of seq ${record.seq} lacks its type or time`, where);
  }
  return event;
}
