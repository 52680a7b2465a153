/**
 * Reads the frames of an established session, most of them with one socket read each.
 *
 * Why: {@link readFrame} reads the 5-byte header, then the body: two reads per record, each an
 * async operation with its own promise. A session's records are short (a request or an answer is
 * one to two hundred bytes), so here one read of {@link FRAME_READ_BYTES} bytes usually brings
 * the whole frame, and its body is a view into that read, not a copy. A longer frame gets its own
 * body buffer once its length has passed the limit, as in readFrame. Bytes read past the end of a
 * frame (a peer that sent the next one right behind it) are kept for the next read.
 *
 * @module
 */

import { type Bytes, bytesToU32 } from "./bytes.ts";
import { FRAME_HEADER_BYTES } from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import { closeQuietly, type Frame, type FrameConn, readSome } from "./frame.ts";

/**
 * Bytes asked for by the first read of a frame: a whole request or a short answer fits, a history
 * answer takes a second read. It is also what a session holds while it waits for a record.
 */
export const FRAME_READ_BYTES = 256;

/** Frames from one connection, in order. Not safe for concurrent use: one read() at a time. */
export class FrameReader {
  readonly #conn: FrameConn;
  readonly #frameBytesMax: number;
  /** Bytes read past the last frame returned: the start of the next one. */
  #rest: Bytes | undefined;

  /**
   * Creates the reader. It must see every byte after the last frame read by other means: the
   * handshake reads its frames exactly, never past them.
   *
   * @param conn The connection; it is closed on any failure.
   * @param frameBytesMax Largest body accepted.
   * @throws {RangeError} When the limit is not a non-negative integer (NaN would disable it).
   */
  constructor(conn: FrameConn, frameBytesMax: number) {
    if (!Number.isSafeInteger(frameBytesMax) || frameBytesMax < 0) {
      throw new RangeError(`Frame size limit must be a non-negative integer: got ${frameBytesMax}`);
    }
    this.#conn = conn;
    this.#frameBytesMax = frameBytesMax;
  }

  /**
   * Reads the next frame.
   *
   * @returns The frame.
   * @throws {ProtocolError} `closed` on EOF before the first header byte, `truncated` on EOF or a
   * socket error inside a frame, or `frame_too_large` before any body buffer is allocated.
   */
  async read(): Promise<Frame> {
    try {
      return await this.#readUnguarded();
    } catch (error) {
      closeQuietly(this.#conn);
      throw error;
    }
  }

  async #readUnguarded(): Promise<Frame> {
    let buffer = this.#rest ?? new Uint8Array(FRAME_READ_BYTES);
    let filled = this.#rest?.length ?? 0;
    this.#rest = undefined;
    if (filled < FRAME_HEADER_BYTES && buffer.length < FRAME_READ_BYTES) {
      // A few bytes of a header were left over: the rest of it goes behind them.
      const grown = new Uint8Array(FRAME_READ_BYTES);
      grown.set(buffer.subarray(0, filled));
      buffer = grown;
    }
    while (filled < FRAME_HEADER_BYTES) {
      filled += await readSome(this.#conn, buffer.subarray(filled), filled > 0);
    }
    const length = bytesToU32(buffer, 1);
    if (length > this.#frameBytesMax) {
      throw new ProtocolError(
        "frame_too_large",
        `Frame length ${length} exceeds the limit of ${this.#frameBytesMax} bytes`,
      );
    }
    const end = FRAME_HEADER_BYTES + length;
    if (end <= buffer.length) {
      while (filled < end) filled += await readSome(this.#conn, buffer.subarray(filled, end), true);
      if (filled > end) this.#rest = buffer.subarray(end, filled);
      return { type: buffer[0], body: buffer.subarray(FRAME_HEADER_BYTES, end) };
    }
    // Longer than what was read: the body gets a buffer of its own, checked length only.
    const body = new Uint8Array(length);
    body.set(buffer.subarray(FRAME_HEADER_BYTES, filled));
    let got = filled - FRAME_HEADER_BYTES;
    while (got < length) got += await readSome(this.#conn, body.subarray(got), true);
    return { type: buffer[0], body };
  }
}
