/**
 * Reads a log file line by line in bounded memory: one read chunk plus at most one partial line
 * of LINE_BYTES_MAX. Log lines are ASCII, so the text is decoded one byte per character and
 * character offsets are byte offsets (needed to truncate a torn line exactly).
 *
 * @module
 */

import { AuditError } from "./audit_error.ts";
import { LINE_BYTES_MAX, READ_CHUNK_BYTES } from "./constants.ts";

/** One complete line. */
export interface Line {
  /** The text without the newline. */
  text: string;
  /** 1-based line number. */
  number: number;
}

/** Reads the lines of one file up to a byte limit fixed when it was opened. */
export class LineReader {
  #file: Deno.FsFile;
  #name: string;
  #remaining: number;
  #buffer = new Uint8Array(READ_CHUNK_BYTES);
  // one byte per character keeps offsets exact; bytes >= 0x80 never form a valid record anyway
  #decoder = new TextDecoder("latin1");
  #pending: string[] = [];
  #pendingAt = 0;
  #carry = "";
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

  /** Bytes after the last newline read so far: a partial line once `next()` returned null. */
  get tailBytes(): number {
    return this.#carry.length;
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
   * Returns the next complete line, or null at the end of the byte limit.
   *
   * @returns The line or null.
   * @throws {AuditError} `malformed` for a line longer than LINE_BYTES_MAX; `io` on a read error.
   */
  async next(): Promise<Line | null> {
    while (this.#pendingAt === this.#pending.length) {
      if (this.#remaining === 0) return null;
      this.#pending = [];
      this.#pendingAt = 0;
      await this.#readChunk();
    }
    const text = this.#pending[this.#pendingAt++];
    this.#lineCount++;
    this.#completeBytes += text.length + 1;
    return { text, number: this.#lineCount };
  }

  async #readChunk(): Promise<void> {
    const want = Math.min(this.#buffer.length, this.#remaining);
    let got: number | null;
    try {
      got = await this.#file.read(this.#buffer.subarray(0, want));
    } catch (error) {
      throw new AuditError("io", "Cannot read log file", { file: this.#name, cause: error });
    }
    if (got === null || got === 0) {
      this.#remaining = 0; // the file shrank while being read: treat what we have as the end
      return;
    }
    this.#remaining -= got;
    this.#onBytes(got);
    const text = this.#carry + this.#decoder.decode(this.#buffer.subarray(0, got));
    let start = 0;
    let newline = text.indexOf("\n");
    while (newline >= 0) {
      this.#checkLength(newline - start);
      this.#pending.push(text.slice(start, newline));
      start = newline + 1;
      newline = text.indexOf("\n", start);
    }
    this.#carry = text.slice(start);
    this.#checkLength(this.#carry.length);
  }

  #checkLength(length: number): void {
    if (length <= LINE_BYTES_MAX) return;
    throw new AuditError("malformed", `Line is longer than ${LINE_BYTES_MAX} bytes`, {
      file: this.#name,
      line: this.#lineCount + this.#pending.length - this.#pendingAt + 1,
    });
  }
}
