/**
 * The established session: records over frames, in both directions, after a handshake.
 *
 * @module
 */

import type { Bytes } from "./bytes.ts";
import { type ChannelDeadline, ChannelDeadlines } from "./channel_deadlines.ts";
import {
  CLOSE_TIMEOUT_MS,
  FRAME_HEADER_BYTES,
  recordPayloadBytesMax,
  WRITE_TIMEOUT_MS,
} from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import {
  allocateFrame,
  assertTimeout,
  closeQuietly,
  type FrameConn,
  FrameType,
  writeAll,
} from "./frame.ts";
import { FrameReader } from "./frame_reader.ts";
import { recordBytes, RecordOpener, RecordSealer } from "./record.ts";

/** An authenticated, encrypted session between one ATM and the bank. */
export interface SecureChannel {
  /** The authenticated ATM id. */
  readonly atmId: string;
  /** Short non-secret id of this session for logs: 16 hex chars of the final transcript hash. */
  readonly sessionId: string;
  /** Encrypts and sends one application record. Safe to call concurrently (serialised inside). */
  send(payload: Uint8Array): Promise<void>;
  /**
   * Next application record. Rejects with ProtocolError: `closed` on a clean close, `timeout` when
   * `options.timeoutMs` passes with no complete record (the channel then sends its close record,
   * waiting at most CLOSE_TIMEOUT_MS, and closes), others on attack or corruption. After any
   * rejection the channel is closed: a read timeout never leaves a half-read frame behind.
   */
  receive(options?: { timeoutMs?: number }): Promise<Uint8Array>;
  /** Sends an authenticated close record if possible and closes the connection. Idempotent. */
  close(): Promise<void>;
}

/** What a handshake hands to {@link RecordChannel}. */
export interface RecordChannelOptions {
  /** The connection, owned by the channel from now on. */
  conn: FrameConn;
  /** The authenticated ATM id. */
  atmId: string;
  /** The session id for logs. */
  sessionId: string;
  /** Seals what this side sends. */
  sealer: RecordSealer;
  /** Opens what the peer sends. */
  opener: RecordOpener;
  /** Largest frame body this side accepts. */
  receiveFrameBytesMax: number;
  /** Largest frame body the peer accepts, which bounds what `send` may seal. */
  sendFrameBytesMax: number;
}

/** {@link SecureChannel} over one connection. */
export class RecordChannel implements SecureChannel {
  readonly atmId: string;
  readonly sessionId: string;
  readonly #conn: FrameConn;
  readonly #sealer: RecordSealer;
  readonly #opener: RecordOpener;
  readonly #frames: FrameReader;
  readonly #sendPayloadBytesMax: number;
  /** The last frame write queued, until it settles; writes go out one after another. */
  #lastWrite: Promise<void> | undefined;
  /** Counts queued writes, so the last one can tell that nothing is queued behind it. */
  #writesQueued = 0;
  /** A frame write that takes WRITE_TIMEOUT_MS, or a receive() past its timeout. */
  readonly #deadlines = new ChannelDeadlines((deadline) => this.#deadlinePassed(deadline));
  #writeTimedOut = false;
  #receiveTimedOut = false;
  #receiving = false;
  #closed = false;
  #closing: Promise<void> | undefined;

  /**
   * Wraps an established session.
   *
   * @param options Connection, identities and record state from the handshake.
   */
  constructor(options: RecordChannelOptions) {
    this.#conn = options.conn;
    this.atmId = options.atmId;
    this.sessionId = options.sessionId;
    this.#sealer = options.sealer;
    this.#opener = options.opener;
    this.#frames = new FrameReader(options.conn, options.receiveFrameBytesMax);
    this.#sendPayloadBytesMax = recordPayloadBytesMax(options.sendFrameBytesMax);
  }

  /**
   * Encrypts and sends one application record.
   *
   * @param payload The plaintext, at most the record payload limit of the peer's frame size.
   * @throws {RangeError} When the payload is too long (nothing is sent, the channel stays open).
   * @throws {ProtocolError} `closed`, `timeout` or `sequence_exhausted`; the channel is closed.
   */
  send(payload: Uint8Array): Promise<void> {
    if (!(payload instanceof Uint8Array)) {
      return Promise.reject(new TypeError("Payload must be a Uint8Array"));
    }
    if (payload.length > this.#sendPayloadBytesMax) {
      return Promise.reject(
        new RangeError(
          `Payload must be at most ${this.#sendPayloadBytesMax} bytes: got ${payload.length}`,
        ),
      );
    }
    return this.#sealAndQueue(FrameType.RECORD_DATA, payload);
  }

  /**
   * Seals a record now, in call order, which is the order of the sequence numbers and of the
   * writes: the caller may reuse its buffer as soon as send() returns, with no copy of it.
   */
  #sealAndQueue(type: number, payload: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new ProtocolError("closed", "Channel is closed"));
    let frame: Bytes;
    try {
      frame = allocateFrame(type, recordBytes(payload.length));
      this.#sealer.sealInto(type, payload, frame.subarray(FRAME_HEADER_BYTES));
    } catch (error) {
      this.#shutDown();
      return Promise.reject(error);
    }
    const previous = this.#lastWrite;
    const write = () => this.#writeFrame(frame);
    const written = previous === undefined ? write() : previous.then(write, write);
    this.#lastWrite = written;
    this.#writesQueued++;
    return written;
  }

  async #writeFrame(frame: Bytes): Promise<void> {
    try {
      if (this.#closed) throw new ProtocolError("closed", "Channel is closed");
      this.#deadlines.set("write", WRITE_TIMEOUT_MS);
      await writeAll(this.#conn, frame);
    } catch (error) {
      const failure = this.#writeTimedOut
        ? new ProtocolError("timeout", `Record not written within ${WRITE_TIMEOUT_MS} ms`)
        : error;
      this.#shutDown();
      throw failure;
    } finally {
      this.#deadlines.clear("write");
      if (--this.#writesQueued === 0) this.#lastWrite = undefined;
    }
  }

  /**
   * Waits for the next application record.
   *
   * @param options `timeoutMs`: how long to wait for a complete record; default no limit.
   * @returns The payload.
   * @throws {RangeError} On a bad timeout (nothing is read, the channel stays open).
   * @throws {ProtocolError} See {@link SecureChannel.receive}; the channel is closed.
   * @throws {Error} When another receive() is still waiting (a caller bug; nothing changes).
   */
  async receive(options: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    if (this.#receiving) throw new Error("receive() called while another receive() is waiting");
    const timeoutMs = options.timeoutMs;
    if (timeoutMs !== undefined) assertTimeout(timeoutMs);
    if (this.#closed) throw new ProtocolError("closed", "Channel is closed");
    this.#receiving = true;
    this.#receiveTimedOut = false;
    // On expiry the channel closes itself (close record, then socket), which ends the read.
    if (timeoutMs !== undefined) this.#deadlines.set("receive", timeoutMs);
    try {
      const payload = await this.#readRecord();
      if (this.#receiveTimedOut) {
        throw new ProtocolError("timeout", `No record within ${timeoutMs} ms`);
      }
      return payload;
    } catch (error) {
      if (!this.#receiveTimedOut) {
        this.#shutDown();
        throw error;
      }
      // Lets the close record finish going out before the caller hears of the timeout.
      await this.close();
      if (error instanceof ProtocolError && error.code === "timeout") throw error;
      throw new ProtocolError("timeout", `No record within ${timeoutMs} ms`, { cause: error });
    } finally {
      this.#deadlines.clear("receive");
      this.#receiving = false;
    }
  }

  async #readRecord(): Promise<Uint8Array> {
    let frame;
    try {
      frame = await this.#frames.read();
    } catch (error) {
      if (this.#closed) throw new ProtocolError("closed", "Channel was closed", { cause: error });
      throw error;
    }
    switch (frame.type) {
      case FrameType.RECORD_DATA:
        return this.#opener.open(frame.type, frame.body);
      case FrameType.RECORD_CLOSE: {
        const rest = this.#opener.open(frame.type, frame.body);
        if (rest.length !== 0) throw new ProtocolError("malformed", "Close record has a payload");
        throw new ProtocolError("closed", "Peer sent an authenticated close record");
      }
      case FrameType.HANDSHAKE_FAILURE:
        throw new ProtocolError("handshake_failed", "Peer rejected the handshake");
      default:
        throw new ProtocolError("unexpected_message", `Frame type ${frame.type} after handshake`);
    }
  }

  /**
   * Sends an authenticated close record (after any queued records) if the channel is healthy, and
   * closes the connection. Waits at most {@link CLOSE_TIMEOUT_MS} for the record to go out.
   */
  close(): Promise<void> {
    this.#closing ??= this.#closeNow();
    return this.#closing;
  }

  async #closeNow(): Promise<void> {
    if (!this.#closed && !this.#sealer.exhausted) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const gaveUp = new Promise<void>((resolve) => timer = setTimeout(resolve, CLOSE_TIMEOUT_MS));
      const sent = this.#sealAndQueue(FrameType.RECORD_CLOSE, new Uint8Array(0)).catch(() => {});
      await Promise.race([sent, gaveUp]);
      clearTimeout(timer);
    }
    this.#shutDown();
  }

  /**
   * A stalled write closes the connection, which ends the write. A receive() past its timeout
   * closes the channel (close record, then socket), which ends the read.
   */
  #deadlinePassed(deadline: ChannelDeadline): void {
    if (deadline === "write") {
      this.#writeTimedOut = true;
      closeQuietly(this.#conn);
    } else {
      this.#receiveTimedOut = true;
      void this.close();
    }
  }

  #shutDown(): void {
    this.#closed = true;
    this.#deadlines.dispose();
    closeQuietly(this.#conn);
  }
}
