/**
 * The application messages that travel inside the secure channel: one JSON request from the ATM,
 * one JSON response from the bank, matched by the request id the ATM chose.
 *
 * Requests are parsed strictly: unknown operations, missing or extra-long fields and anything that
 * is not the documented shape are refused with {@link MessageError} before the bank acts on them.
 *
 * @module
 */

/** Longest request id accepted; a UUID is 36 characters, the rest is headroom. */
export const REQUEST_ID_CHARS_MAX = 64;
/** Longest customer name on the wire; the ledger applies its own stricter rule. */
export const USER_CHARS_MAX = 64;
/** Longest PIN string on the wire; the bank validates the PIN format itself. */
export const PIN_CHARS_MAX = 32;
/** Longest amount string; "1000000.00" is 10 characters. */
export const AMOUNT_CHARS_MAX = 24;
/** How many transactions a mini-statement shows. */
export const HISTORY_ITEMS_MAX = 10;

/** Every operation an ATM may ask for. */
export const OPERATIONS = [
  "login",
  "balance",
  "deposit",
  "withdraw",
  "transfer",
  "history",
  "logout",
] as const;

/** One operation name. */
export type Operation = typeof OPERATIONS[number];

/** A request from the ATM. `id` is unique per request and reused only when retrying it. */
export type Request =
  | { id: string; op: "login"; user: string; pin: string }
  | { id: string; op: "balance" | "history" | "logout" }
  | { id: string; op: "deposit" | "withdraw"; amount: string }
  | { id: string; op: "transfer"; to: string; amount: string };

/** One line of a mini-statement, amounts as decimal strings (signed for this customer). */
export interface HistoryLine {
  at: string;
  kind: "opening" | "deposit" | "withdraw" | "transfer_in" | "transfer_out";
  amount: string;
  counterparty: string | null;
  balanceAfter: string;
}

/** Why the bank refused a request; the ATM shows `message`, scripts read `error`. */
export type RefusalCode =
  | "bad_request"
  | "login_failed"
  | "not_logged_in"
  | "bad_amount"
  | "insufficient_funds"
  | "unknown_recipient"
  | "same_account"
  | "balance_limit"
  | "request_conflict"
  | "busy"
  | "internal";

/** The bank's answer to one request. */
export type Response =
  | {
    id: string;
    ok: true;
    op: Operation;
    customer?: string;
    balance?: string;
    history?: HistoryLine[];
    replayed?: boolean;
  }
  | { id: string; ok: false; error: RefusalCode; message: string };

/** A request or response that does not have the documented shape. */
export class MessageError extends Error {
  /** Machine-readable reason, safe to log. */
  readonly code: "not_json" | "bad_shape";

  /** Creates the error; `message` never contains the offending secret fields. */
  constructor(code: "not_json" | "bad_shape", message: string) {
    super(message);
    this.name = "MessageError";
    this.code = code;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes a request or response as UTF-8 JSON for one channel record.
 *
 * @param message The message to send.
 * @returns The bytes to pass to `SecureChannel.send`.
 */
export function encodeMessage(message: Request | Response): Uint8Array<ArrayBuffer> {
  return encoder.encode(JSON.stringify(message));
}

function parseJsonObject(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new MessageError("not_json", "Message is not valid UTF-8 JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MessageError("bad_shape", "Message is not a JSON object");
  }
  return value as Record<string, unknown>;
}

function requireString(
  object: Record<string, unknown>,
  field: string,
  charsMax: number,
): string {
  const value = object[field];
  if (typeof value !== "string" || value.length === 0) {
    throw new MessageError("bad_shape", `Field "${field}" must be a non-empty string`);
  }
  if (value.length > charsMax) {
    throw new MessageError("bad_shape", `Field "${field}" is longer than ${charsMax} characters`);
  }
  return value;
}

/**
 * Parses and validates one request received by the bank.
 *
 * @param bytes The decrypted record payload.
 * @returns The request, with only the documented fields.
 * @throws {MessageError} When the payload is not a request of a known operation.
 */
export function decodeRequest(bytes: Uint8Array): Request {
  const object = parseJsonObject(bytes);
  const id = requireString(object, "id", REQUEST_ID_CHARS_MAX);
  const op = object.op;
  switch (op) {
    case "login":
      return {
        id,
        op,
        user: requireString(object, "user", USER_CHARS_MAX),
        pin: requireString(object, "pin", PIN_CHARS_MAX),
      };
    case "balance":
    case "history":
    case "logout":
      return { id, op };
    case "deposit":
    case "withdraw":
      return { id, op, amount: requireString(object, "amount", AMOUNT_CHARS_MAX) };
    case "transfer":
      return {
        id,
        op,
        to: requireString(object, "to", USER_CHARS_MAX),
        amount: requireString(object, "amount", AMOUNT_CHARS_MAX),
      };
    default:
      throw new MessageError("bad_shape", `Unknown operation: ${JSON.stringify(op)}`);
  }
}

/**
 * Parses one response received by the ATM.
 *
 * @param bytes The decrypted record payload.
 * @returns The response.
 * @throws {MessageError} When the payload lacks `id` and `ok`.
 */
export function decodeResponse(bytes: Uint8Array): Response {
  const object = parseJsonObject(bytes);
  if (typeof object.id !== "string" || typeof object.ok !== "boolean") {
    throw new MessageError("bad_shape", "Response lacks an id or ok field");
  }
  if (!object.ok && (typeof object.error !== "string" || typeof object.message !== "string")) {
    throw new MessageError("bad_shape", "Refusal lacks an error code or message");
  }
  return object as unknown as Response;
}
