/**
 * The one error class of the secure channel. Its code says locally what really went wrong; the
 * peer is never told more than "handshake failed" or sees the connection close.
 *
 * @module
 */

/**
 * Why a secure-channel operation failed.
 *
 * - `closed`: the peer closed cleanly (EOF between frames, or an authenticated close record), or
 *   this side closed the channel.
 * - `truncated`: EOF or a socket error in the middle of a frame.
 * - `frame_too_large`: a length prefix above the limit, rejected before the body is read.
 * - `timeout`: the handshake, a read or a write took longer than allowed.
 * - `unexpected_message`: a frame type that is not valid in the current state.
 * - `malformed`: a message of the wrong length or layout, a bad X25519 key, an unknown version.
 * - `bad_mac`: a MAC did not verify: a wrong key, a tampered, replayed, reordered or dropped
 *   message (the implicit sequence number makes the last three MAC failures).
 * - `unknown_atm`: the bank has no key for the ATM id in the hello (bank side only).
 * - `handshake_failed`: the peer sent the generic failure message: it rejected our handshake.
 * - `sequence_exhausted`: the session reached its record limit and must be renewed.
 */
export type ProtocolErrorCode =
  | "closed"
  | "truncated"
  | "frame_too_large"
  | "timeout"
  | "unexpected_message"
  | "malformed"
  | "bad_mac"
  | "unknown_atm"
  | "handshake_failed"
  | "sequence_exhausted";

/**
 * A secure-channel failure. Messages describe what happened and never contain key material.
 *
 * @example Tell a clean close from an attack
 * ```ts
 * import { ProtocolError } from "./errors.ts";
 * const error = new ProtocolError("bad_mac", "Record MAC does not verify");
 * if (error.code !== "bad_mac" || error.name !== "ProtocolError") throw new Error("unexpected");
 * ```
 */
export class ProtocolError extends Error {
  /** Why it failed; see {@link ProtocolErrorCode}. */
  readonly code: ProtocolErrorCode;

  /**
   * Creates the error.
   *
   * @param code Why it failed.
   * @param message What happened, for the local log; never key material.
   * @param options The underlying error, if any.
   */
  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProtocolError";
    this.code = code;
  }
}
