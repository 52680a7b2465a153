/**
 * The typed errors of the ATM. Messages are plain words meant for the customer or the script
 * reading stderr; none of them ever contains a PIN or a key.
 *
 * @module
 */

import type { RefusalCode } from "../lib/messages.ts";

/** The bank answered the request and said no. Nothing was changed by the refused request. */
export class BankRefusalError extends Error {
  /** The bank's reason, as scripts read it. */
  readonly code: RefusalCode;
  /** Id of the refused request. */
  readonly requestId: string;

  /**
   * Creates the error.
   *
   * @param code The bank's refusal code.
   * @param message The bank's plain-words explanation, already cleaned for display.
   * @param requestId Id of the refused request.
   */
  constructor(code: RefusalCode, message: string, requestId: string) {
    super(message);
    this.name = "BankRefusalError";
    this.code = code;
    this.requestId = requestId;
  }
}

/** Why talking to the bank failed, apart from the bank refusing. */
export type BankClientErrorCode =
  /** No server answered within the retry budget. */
  | "unreachable"
  /** Every server that answered refused this ATM's credential (unknown, revoked or wrong key). */
  | "rejected"
  /** The bank sent something that is not a valid answer to the request. */
  | "protocol"
  /** The client was used after `close()` or before `login()`. */
  | "closed"
  /** A server address is not `host:port`. */
  | "bad_server";

/** Talking to the bank failed: the request may or may not have been applied. */
export class BankClientError extends Error {
  /** Machine-readable reason. */
  readonly code: BankClientErrorCode;

  /**
   * Creates the error.
   *
   * @param code The reason.
   * @param message Plain words, safe to show and log.
   * @param options The underlying error, if any.
   */
  constructor(code: BankClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BankClientError";
    this.code = code;
  }
}

/** Why the command line or the customer's input was refused before anything was sent. */
export type UsageErrorCode = "bad_arguments" | "bad_amount" | "bad_input";

/** The command line or typed input is wrong; nothing was sent to the bank. */
export class UsageError extends Error {
  /** Machine-readable reason. */
  readonly code: UsageErrorCode;

  /**
   * Creates the error.
   *
   * @param code The reason.
   * @param message Plain words saying what is wrong and what is expected.
   */
  constructor(code: UsageErrorCode, message: string) {
    super(message);
    this.name = "UsageError";
    this.code = code;
  }
}
