/**
 * Framing over a byte stream: `type (1) || length (4, big-endian) || body (length)`.
 *
 * The reader allocates exactly the 5-byte header, then exactly the body once its length has been
 * checked against the limit, so a hostile length never makes it buffer more than the limit and an
 * idle connection holds only the header buffer. Any failure closes the connection.
 *
 * @module
 */

import { type Bytes, bytesToU32 } from "./bytes.ts";
import { FRAME_BYTES_MAX, FRAME_HEADER_BYTES, TIMEOUT_MS_MAX } from "./constants.ts";
import { ProtocolError } from "./errors.ts";

/** Frame types on the wire (see docs/protocol.md). */
export const FrameType = {
  /** ATM -> bank, first handshake message. */
  ATM_HELLO: 0x01,
  /** Bank -> ATM, second handshake message. */
  BANK_REPLY: 0x02,
  /** ATM -> bank, third handshake message. */
  ATM_FINISHED: 0x03,
  /** Either side: the one generic handshake failure message, empty body. */
  HANDSHAKE_FAILURE: 0x0f,
  /** An encrypted application data record. */
  RECORD_DATA: 0x17,
  /** An encrypted, authenticated close record. */
  RECORD_CLOSE: 0x15,
} as const;

/** One frame type value. */
export type FrameTypeValue = typeof FrameType[keyof typeof FrameType];

/** One frame as read from the wire. The type is any byte; callers check it against their state. */
export interface Frame {
  /** The type byte. */
  type: number;
  /** The body, exactly as long as the length prefix said. */
  body: Bytes;
}

/** The parts of a `Deno.Conn` that framing uses. */
export type FrameConn = Pick<Deno.Conn, "read" | "write" | "close">;

/** Options of {@link readFrame}. */
export interface ReadFrameOptions {
  /** Largest body accepted; a larger length prefix fails with `frame_too_large` before the body. */
  frameBytesMax: number;
  /** Time allowed for the whole frame; on expiry the connection is closed. Default: no limit. */
  timeoutMs?: number;
}

/**
 * Encodes one frame.
 *
 * @example A failure frame is five bytes
 * ```ts
 * import { encodeFrame, FrameType } from "./frame.ts";
 * const bytes = encodeFrame(FrameType.HANDSHAKE_FAILURE, new Uint8Array(0));
 * if (bytes.length !== 5 || bytes[0] !== 0x0f) throw new Error("unexpected");
 * ```
 *
 * @param type The type byte.
 * @param body The body, at most {@link FRAME_BYTES_MAX} bytes.
 * @returns Header and body in one new array.
 * @throws {RangeError} When the type is not a byte or the body is too long.
 */
export function encodeFrame(type: number, body: Uint8Array): Bytes {
  const frame = allocateFrame(type, body.length);
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Allocates one frame with its header written and its body zero, for a caller that builds the
 * body in place (`frame.subarray(FRAME_HEADER_BYTES)`) instead of copying it in after.
 *
 * @example A frame ready for a 48-byte body
 * ```ts
 * import { allocateFrame, FrameType } from "./frame.ts";
 * const frame = allocateFrame(FrameType.RECORD_DATA, 48);
 * if (frame.length !== 53 || frame[0] !== 0x17 || frame[4] !== 48) throw new Error("unexpected");
 * ```
 *
 * @param type The type byte.
 * @param bodyBytes The body length, at most {@link FRAME_BYTES_MAX}.
 * @returns Header and room for the body in one new array.
 * @throws {RangeError} When the type is not a byte or the length is not a valid body length.
 */
export function allocateFrame(type: number, bodyBytes: number): Bytes {
  if (!Number.isInteger(type) || type < 0 || type > 0xff) {
    throw new RangeError(`Frame type must be a byte: got ${type}`);
  }
  if (!Number.isInteger(bodyBytes) || bodyBytes < 0 || bodyBytes > FRAME_BYTES_MAX) {
    throw new RangeError(`Frame body must be at most ${FRAME_BYTES_MAX} bytes: got ${bodyBytes}`);
  }
  const frame = new Uint8Array(FRAME_HEADER_BYTES + bodyBytes);
  frame[0] = type;
  // Big-endian length; bodyBytes is at most FRAME_BYTES_MAX, so the shifts never overflow.
  frame[1] = bodyBytes >>> 24;
  frame[2] = (bodyBytes >>> 16) & 0xff;
  frame[3] = (bodyBytes >>> 8) & 0xff;
  frame[4] = bodyBytes & 0xff;
  return frame;
}

/**
 * Closes a connection, ignoring the error of one that is already closed.
 *
 * @param conn The connection.
 */
export function closeQuietly(conn: Pick<Deno.Conn, "close">): void {
  try {
    conn.close();
  } catch {
    // Already closed: nothing left to release.
  }
}

/**
 * Closes a connection when a deadline passes, so that any pending read or write on it rejects.
 * Call {@link ConnDeadline.clear} when the guarded work is done.
 */
export class ConnDeadline {
  #timer: ReturnType<typeof setTimeout>;
  #expired = false;

  /**
   * Arms the deadline.
   *
   * @param conn The connection to close on expiry.
   * @param timeoutMs Milliseconds from now, 1 to {@link TIMEOUT_MS_MAX}.
   * @throws {RangeError} When the timeout is out of range.
   */
  constructor(conn: Pick<Deno.Conn, "close">, timeoutMs: number) {
    assertTimeout(timeoutMs);
    this.#timer = setTimeout(() => {
      this.#expired = true;
      closeQuietly(conn);
    }, timeoutMs);
  }

  /** True once the deadline has passed and the connection was closed. */
  get expired(): boolean {
    return this.#expired;
  }

  /** Disarms the deadline. */
  clear(): void {
    clearTimeout(this.#timer);
  }
}

/**
 * Checks a timeout value.
 *
 * @param timeoutMs The value.
 * @throws {RangeError} When it is not an integer from 1 to {@link TIMEOUT_MS_MAX}.
 */
export function assertTimeout(timeoutMs: number): void {
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > TIMEOUT_MS_MAX) {
    throw new RangeError(
      `Timeout must be an integer from 1 to ${TIMEOUT_MS_MAX} ms: got ${timeoutMs}`,
    );
  }
}

/**
 * Reads one frame. Counts bytes as they arrive, however the stream splits them, and rejects an
 * oversize length before reading (or allocating) the body.
 *
 * @param conn The connection; it is closed on any failure.
 * @param options The body limit and an optional timeout.
 * @returns The frame.
 * @throws {ProtocolError} `closed` on EOF before the first header byte, `truncated` on EOF or a
 * socket error inside a frame, `frame_too_large`, or `timeout`.
 */
export async function readFrame(conn: FrameConn, options: ReadFrameOptions): Promise<Frame> {
  const deadline = options.timeoutMs === undefined
    ? undefined
    : new ConnDeadline(conn, options.timeoutMs);
  try {
    return await readFrameUnguarded(conn, options.frameBytesMax);
  } catch (error) {
    closeQuietly(conn);
    if (deadline?.expired) {
      throw new ProtocolError("timeout", `No complete frame within ${options.timeoutMs} ms`, {
        cause: error,
      });
    }
    throw error;
  } finally {
    deadline?.clear();
  }
}

async function readFrameUnguarded(conn: FrameConn, frameBytesMax: number): Promise<Frame> {
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  await readExactly(conn, header, false);
  const length = bytesToU32(header, 1);
  if (length > frameBytesMax) {
    throw new ProtocolError(
      "frame_too_large",
      `Frame length ${length} exceeds the limit of ${frameBytesMax} bytes`,
    );
  }
  const body = new Uint8Array(length);
  await readExactly(conn, body, true);
  return { type: header[0], body };
}

/** Fills `buffer` completely; `inFrame` says whether EOF here cuts a frame in two. */
async function readExactly(conn: FrameConn, buffer: Bytes, inFrame: boolean): Promise<void> {
  let filled = 0;
  while (filled < buffer.length) {
    filled += await readSome(conn, buffer.subarray(filled), inFrame || filled > 0);
  }
}

/**
 * Reads at least one byte into `buffer`, as one socket read.
 *
 * @param conn The connection.
 * @param buffer Where the bytes go; not empty.
 * @param inFrame Whether the bytes belong to a frame already begun, so that EOF cuts it in two.
 * @returns How many bytes were read.
 * @throws {ProtocolError} `truncated` on EOF or a socket error inside a frame, else `closed`.
 */
export async function readSome(
  conn: FrameConn,
  buffer: Uint8Array,
  inFrame: boolean,
): Promise<number> {
  let count: number | null;
  try {
    count = await conn.read(buffer);
  } catch (error) {
    throw endOfStream(inFrame, "Connection failed", error);
  }
  if (count === null) throw endOfStream(inFrame, "Connection ended", undefined);
  return count;
}

function endOfStream(inFrame: boolean, what: string, cause: unknown): ProtocolError {
  if (inFrame) return new ProtocolError("truncated", `${what} in the middle of a frame`, { cause });
  return new ProtocolError("closed", `${what} between frames`, { cause });
}

/**
 * Writes all bytes, however many calls the socket needs.
 *
 * @param conn The connection.
 * @param bytes The bytes.
 * @throws {ProtocolError} `closed` when the connection fails or is closed during the write.
 */
export async function writeAll(conn: FrameConn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    try {
      written += await conn.write(bytes.subarray(written));
    } catch (error) {
      throw new ProtocolError("closed", "Connection failed while writing", { cause: error });
    }
  }
}

/**
 * Turns on TCP no-delay when the connection is TCP: every frame is a complete message, and Nagle's
 * algorithm would hold the small handshake and request frames back.
 *
 * @param conn The connection.
 */
export function setNoDelayIfTcp(conn: Deno.Conn): void {
  if (conn.localAddr.transport !== "tcp") return;
  const tcp = conn as Deno.TcpConn;
  if (typeof tcp.setNoDelay === "function") tcp.setNoDelay(true);
}
