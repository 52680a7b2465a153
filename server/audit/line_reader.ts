/**
 * Reads a log file line by line in bounded memory: one buffer of READ_CHUNK_BYTES plus room for
 * one partial line of LINE_BYTES_MAX carried over from the previous chunk. Lines stay bytes, found
 * with a native byte search: readers take canonical records apart without building strings, and
 * byte offsets are exact (needed to truncate a torn line).
 *
 * @module
 */

import { AuditError } from "./audit_error.ts";
import { LINE_BYTES_MAX, READ_CHUNK_BYTES } from "./constants.ts";

/** One complete line: `bytes[start..end)` of the reader, valid until the next `fill()`. */
export interface Line {
  start: number;
  /** Position of its newline. */
  end: number;
  /** 1-based line number. */
  number: number;
}

const NEWLINE = 0x0a;

// one byte per character: log lines are ASCII, and bytes >= 0x80 never form a valid record
const LATIN1 = new TextDecoder("latin1");

/** Reads the lines of one file up to a byte limit fixed when it was opened. */
export class LineReader {
  #file: Deno.FsFile;
  #name: string;
  #remaining: number;
  /** A carried partial line (at most LINE_BYTES_MAX, else it was refused) and one chunk. */
  #buffer = new Uint8Array(LINE_BYTES_MAX + READ_CHUNK_BYTES);
  /** The bytes read so far: what a newline is searched in. */
  #filledView = this.#buffer.subarray(0, 0);
  /** Where the next line starts, and where the bytes read so far end. */
  #at = 0;
  #filled = 0;
  #lineCount = 0;
  #completeBytes = 0;
  #onBytes: (bytes: number) => void;

  /**
   * Wraps an open file positioned at its start.
   *
   * @param options The file, its name for errors, how many bytes to read, and a progress callback.
   */
  constructor(
    options: { file: Deno.FsFile; name: string; bytes: number; onBytes: (bytes: number) => void },
  ) {
    this.#file = options.file;
    this.#name = options.name;
    this.#remaining = options.bytes;
    this.#onBytes = options.onBytes;
  }

  /** The bytes that `Line` positions point into. */
  get bytes(): Uint8Array {
    return this.#buffer;
  }

  /** Bytes after the last newline read so far: a partial line once `fill()` returned false. */
  get tailBytes(): number {
    return this.#filled - this.#at;
  }

  /** Offset just past the last newline read: where a torn tail starts. */
  get completeBytes(): number {
    return this.#completeBytes;
  }

  /** Number of complete lines read. */
  get lineCount(): number {
    return this.#lineCount;
  }

  /**
   * The next complete line among the bytes read so far, or null when `fill()` must read more.
   *
   * @returns The line or null.
   * @throws {AuditError} `malformed` for a line longer than LINE_BYTES_MAX.
   */
  next(): Line | null {
    const start = this.#at;
    const newline = this.#filledView.indexOf(NEWLINE, start);
    if (newline < 0) {
      this.#checkLength(this.#filled - start);
      return null;
    }
    this.#checkLength(newline - start);
    this.#at = newline + 1;
    this.#lineCount++;
    this.#completeBytes += newline + 1 - start;
    return { start, end: newline, number: this.#lineCount };
  }

  /**
   * The text of a line, for the slow path that names what is wrong with it.
   *
   * @param line A line from `next()` since the last `fill()`.
   * @returns Its text, one character per byte.
   */
  text(line: Line): string {
    return LATIN1.decode(this.#buffer.subarray(line.start, line.end));
  }

  /**
   * Reads the next chunk, keeping the partial line at the end of the previous one. Call it once
   * `next()` has returned null.
   *
   * @returns False at the end of the byte limit.
   * @throws {AuditError} `io` on a read error.
   */
  async fill(): Promise<boolean> {
    if (this.#remaining === 0) return false;
    const carried = this.#filled - this.#at;
    this.#buffer.copyWithin(0, this.#at, this.#filled);
    this.#at = 0;
    this.#filled = carried;
    this.#filledView = this.#buffer.subarray(0, carried);
    const want = Math.min(READ_CHUNK_BYTES, this.#remaining);
    let got: number | null;
    try {
      got = await this.#file.read(this.#buffer.subarray(carried, carried + want));
    } catch (error) {
      throw new AuditError("io", "Cannot read log file", { file: this.#name, cause: error });
    }
    if (got === null || got === 0) {
      this.#remaining = 0; // the file shrank while being read: treat what we have as the end
      return false;
    }
    this.#remaining -= got;
    this.#filled += got;
    this.#filledView = this.#buffer.subarray(0, this.#filled);
    this.#onBytes(got);
    return true;
  }

  #checkLength(length: number): void {
    if (length <= LINE_BYTES_MAX) return;
    throw new AuditError("malformed", `Line is longer than ${LINE_BYTES_MAX} bytes`, {
      file: this.#name,
      line: this.#lineCount + 1,
    });
  }
}
