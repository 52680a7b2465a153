/**
 * Pieces both handshake sides share: reading a handshake frame, the failure message, the error
 * mapping and the record state that ends a handshake.
 *
 * @module
 */

import { concatBytes, toHex } from "./bytes.ts";
import { FRAME_BYTES_MAX, HANDSHAKE_FRAME_BYTES_MAX } from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import {
  closeQuietly,
  type ConnDeadline,
  encodeFrame,
  type Frame,
  type FrameConn,
  FrameType,
  readFrame,
  writeAll,
} from "./frame.ts";
import type { SessionKeys } from "./key_schedule.ts";
import { Direction, RecordOpener, RecordSealer } from "./record.ts";
import { RecordChannel, type SecureChannel } from "./secure_channel.ts";
import { sha256 } from "./sha256.ts";
import { X25519Error } from "./x25519.ts";

/** Hex characters of the final transcript hash used as the session id. */
const SESSION_ID_CHARS = 16;

/** The generic failure message: the same 5 bytes whatever went wrong. */
const FAILURE_FRAME = encodeFrame(FrameType.HANDSHAKE_FAILURE, new Uint8Array(0));

/**
 * Failures after which telling the peer is pointless or impossible: the peer is gone, already
 * said it failed, or broke the framing (the frame reader has closed the connection).
 */
const SILENT_CODES: ReadonlySet<ProtocolError["code"]> = new Set([
  "closed",
  "truncated",
  "timeout",
  "frame_too_large",
  "handshake_failed",
]);

/**
 * Reads the next handshake frame and checks its type.
 *
 * @param conn The connection.
 * @param expected The only type valid in this state.
 * @returns The frame.
 * @throws {ProtocolError} `handshake_failed` when the peer sent the failure message,
 * `unexpected_message` on any other wrong type, or a framing error.
 */
export async function readHandshakeFrame(conn: FrameConn, expected: number): Promise<Frame> {
  const frame = await readFrame(conn, { frameBytesMax: HANDSHAKE_FRAME_BYTES_MAX });
  if (frame.type === expected) return frame;
  if (frame.type === FrameType.HANDSHAKE_FAILURE) {
    throw new ProtocolError("handshake_failed", "Peer sent the handshake failure message");
  }
  throw new ProtocolError(
    "unexpected_message",
    `Expected frame type ${expected} in the handshake, got ${frame.type}`,
  );
}

/**
 * Turns whatever a handshake step threw into the error to report locally.
 *
 * @param error What was thrown.
 * @param deadline The handshake deadline: once expired, every failure is a timeout.
 * @returns A ProtocolError, or the original error when it is not a protocol matter (a bug or a
 * failing PSK lookup).
 */
export function handshakeError(error: unknown, deadline: ConnDeadline): unknown {
  if (deadline.expired) {
    return new ProtocolError("timeout", "Handshake did not finish in time", { cause: error });
  }
  if (error instanceof X25519Error) {
    return new ProtocolError("malformed", `Peer X25519 key: ${error.message}`, { cause: error });
  }
  return error;
}

/**
 * Ends a failed handshake: sends the generic failure message when that can still help, and closes
 * the connection. Never throws.
 *
 * @param conn The connection.
 * @param error The local error (decides whether the message is sent).
 */
export async function abortHandshake(conn: FrameConn, error: unknown): Promise<void> {
  const silent = error instanceof ProtocolError && SILENT_CODES.has(error.code);
  if (!silent) {
    try {
      await writeAll(conn, FAILURE_FRAME);
    } catch {
      // The peer is gone; closing is all that is left.
    }
  }
  closeQuietly(conn);
}

/**
 * SHA-256 over a transcript given as its parts.
 *
 * @param parts Frames (or frame prefixes) in wire order.
 * @returns The hash.
 */
export async function transcriptHash(...parts: Uint8Array[]): Promise<Uint8Array<ArrayBuffer>> {
  return await sha256(concatBytes(...parts));
}

/** What {@link sessionChannel} needs from a finished handshake. */
export interface SessionChannelOptions {
  /** Which side this is: it seals its own direction and opens the other. */
  side: "atm" | "bank";
  /** The authenticated ATM id. */
  atmId: string;
  /** H3, the hash of the whole transcript; its first hex characters are the session id. */
  finalHash: Uint8Array;
  /** The session's keys. */
  keys: SessionKeys;
  /** Records allowed per direction [RECORDS_PER_DIRECTION_MAX]. */
  recordsMax: number | undefined;
  /** Largest record frame this side accepts from the peer. */
  receiveFrameBytesMax: number;
}

/**
 * The established channel at the end of a handshake, each side sealing with its own direction's
 * keys and opening with the peer's.
 *
 * @param conn The connection, owned by the channel from now on.
 * @param options Side, identities, keys and limits.
 * @returns The channel.
 */
export function sessionChannel(conn: FrameConn, options: SessionChannelOptions): SecureChannel {
  const [sends, receives] = options.side === "atm"
    ? [Direction.ATM_TO_BANK, Direction.BANK_TO_ATM]
    : [Direction.BANK_TO_ATM, Direction.ATM_TO_BANK];
  const { keys, recordsMax } = options;
  return new RecordChannel({
    conn,
    atmId: options.atmId,
    sessionId: toHex(options.finalHash).slice(0, SESSION_ID_CHARS),
    sealer: new RecordSealer({ direction: sends, keys: keys.sending, recordsMax }),
    opener: new RecordOpener({ direction: receives, keys: keys.receiving, recordsMax }),
    receiveFrameBytesMax: options.receiveFrameBytesMax,
    // Not negotiated: the ATM accepts up to this, and a bank that lowers its own limit refuses
    // larger frames from the ATM.
    sendFrameBytesMax: FRAME_BYTES_MAX,
  });
}
