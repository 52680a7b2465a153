/**
 * Rules both ledger implementations share: limits, input validation, and how a retried request
 * is answered. Keeping them here means SQLite and PostgreSQL cannot drift apart on what they
 * accept.
 *
 * @module
 */

import { AMOUNT_CENTS_MAX, BALANCE_CENTS_MAX } from "../../lib/amount.ts";
import type { PinHash } from "../auth/pin_hash.ts";
import { LedgerError, type Operation, type OperationResult, type RefusalReason } from "./store.ts";

/**
 * Schema version this code reads and writes. Version 2 added the server that committed each
 * entry and the bank key check. An older ledger is upgraded (SQLite on open, PostgreSQL by
 * `bank migrate`); a newer or unknown one is refused.
 */
export const SCHEMA_VERSION = 2;

/** Customer names: 1-32 lower-case letters, digits, "_", "." or "-"; short enough for a screen. */
export const CUSTOMER_NAME_PATTERN = /^[a-z0-9_.-]{1,32}$/;

/** ATM ids: 1-64 letters, digits, "_", "." or "-" (the `bank atm` command is stricter). */
export const ATM_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** Longest request id; ATMs send a UUID (36 characters), this leaves room for other schemes. */
export const REQUEST_ID_CHARS_MAX = 128;

/** Longest server id or audit MAC text stored with an audit head. */
export const AUDIT_HEAD_CHARS_MAX = 256;

/** Most statement lines one history() call returns; a mini-statement needs about 10. */
export const HISTORY_ITEMS_LIMIT_MAX = 1_000;

/** Most journal entries one journalAfter() call returns; the caller pages through the rest. */
export const JOURNAL_ENTRIES_LIMIT_MAX = 10_000;

/** Problems checkInvariants() lists per kind of check; one is enough to fail, a few help debug. */
export const PROBLEMS_PER_CHECK_MAX = 20;

/** Largest wrapped ATM key accepted; a wrapped 32-byte key with nonce and tag is about 60. */
export const WRAPPED_KEY_BYTES_MAX = 1_024;

/** House account that money deposited or withdrawn at ATMs moves through. */
export const HOUSE_CASH = "bank:cash";

/** House account (equity) that opening balances come from. */
export const HOUSE_OPENING = "bank:opening";

/**
 * Checks a customer name.
 *
 * @param name The name.
 * @throws {LedgerError} "invalid_name", naming the value.
 */
export function validateCustomerName(name: string): void {
  if (typeof name !== "string" || !CUSTOMER_NAME_PATTERN.test(name)) {
    throw new LedgerError(
      "invalid_name",
      `Customer name must be 1-32 characters of a-z, 0-9, "_", ".", "-": got ${quote(name)}`,
    );
  }
}

/**
 * Checks an ATM id.
 *
 * @param id The id.
 * @throws {LedgerError} "invalid_name", naming the value.
 */
export function validateAtmId(id: string): void {
  if (typeof id !== "string" || !ATM_ID_PATTERN.test(id)) {
    throw new LedgerError(
      "invalid_name",
      `ATM id must be 1-64 characters of A-Z, a-z, 0-9, "_", ".", "-": got ${quote(id)}`,
    );
  }
}

/**
 * Checks an ATM's wrapped key before it is stored.
 *
 * @param wrappedKey The key, wrapped under the bank key.
 * @throws {LedgerError} "invalid_argument" when it is not bytes, is empty, or is over
 * WRAPPED_KEY_BYTES_MAX bytes.
 */
export function validateWrappedKey(wrappedKey: Uint8Array): void {
  if (!(wrappedKey instanceof Uint8Array) || wrappedKey.byteLength === 0) {
    throw new LedgerError("invalid_argument", "Wrapped ATM key must be non-empty bytes");
  }
  if (wrappedKey.byteLength > WRAPPED_KEY_BYTES_MAX) {
    throw new LedgerError(
      "invalid_argument",
      `Wrapped ATM key is over ${WRAPPED_KEY_BYTES_MAX} bytes`,
    );
  }
}

/**
 * Checks the inputs of addCustomer() except the name.
 *
 * @param pin The stored PIN hash.
 * @param openingCents The opening balance.
 * @throws {LedgerError} "invalid_argument" or "invalid_amount".
 */
export function validateNewCustomer(pin: PinHash, openingCents: number): void {
  const bytes = pin?.salt instanceof Uint8Array && pin.hash instanceof Uint8Array;
  if (!bytes || !Number.isSafeInteger(pin.iterations) || pin.iterations <= 0) {
    throw new LedgerError("invalid_argument", "PIN hash must have salt, hash and iterations");
  }
  if (!Number.isSafeInteger(openingCents) || openingCents < 0) {
    throw new LedgerError(
      "invalid_amount",
      `Opening balance must be whole cents >= 0: got ${String(openingCents)}`,
    );
  }
  if (openingCents > BALANCE_CENTS_MAX) {
    throw new LedgerError(
      "invalid_amount",
      `Opening balance is over the limit of ${BALANCE_CENTS_MAX} cents: got ${openingCents}`,
    );
  }
}

/**
 * Checks the shape of an operation before any of its batch is applied.
 *
 * @param op The operation.
 * @throws {LedgerError} "invalid_argument" or "invalid_amount", naming the field.
 */
export function validateOperation(op: Operation): void {
  if (op?.kind !== "deposit" && op?.kind !== "withdraw" && op?.kind !== "transfer") {
    throw new LedgerError("invalid_argument", `Operation kind is unknown: got ${quote(op?.kind)}`);
  }
  const idOk = typeof op.requestId === "string" && op.requestId.length > 0 &&
    op.requestId.length <= REQUEST_ID_CHARS_MAX;
  if (!idOk) {
    throw new LedgerError(
      "invalid_argument",
      `Request id must be 1-${REQUEST_ID_CHARS_MAX} characters: got ${quote(op.requestId)}`,
    );
  }
  validateAtmId(op.atmId);
  validateId(op.customerId, "customerId");
  const amountOk = Number.isSafeInteger(op.amountCents) && op.amountCents > 0 &&
    op.amountCents <= AMOUNT_CENTS_MAX;
  if (!amountOk) {
    throw new LedgerError(
      "invalid_amount",
      `Amount must be 1 to ${AMOUNT_CENTS_MAX} cents: got ${String(op.amountCents)}`,
    );
  }
  if (op.kind === "transfer" && typeof op.toName !== "string") {
    throw new LedgerError("invalid_argument", "Transfer recipient must be a name");
  }
  if (op.serverId !== undefined) validateServerId(op.serverId);
}

/**
 * Checks the id of a bank server as stored with entries and audit heads.
 *
 * @param serverId The id.
 * @throws {LedgerError} "invalid_argument".
 */
export function validateServerId(serverId: string): void {
  if (
    typeof serverId !== "string" || serverId.length === 0 ||
    serverId.length > AUDIT_HEAD_CHARS_MAX
  ) {
    throw new LedgerError(
      "invalid_argument",
      `Server id must be 1-${AUDIT_HEAD_CHARS_MAX} characters: got ${quote(serverId)}`,
    );
  }
}

/**
 * Checks the arguments of journalAfter().
 *
 * @param afterEntryId Entries after this id.
 * @param limit Most entries.
 * @param committedBy Optional server id filter.
 * @throws {LedgerError} "invalid_argument".
 */
export function validateJournalQuery(
  afterEntryId: number,
  limit: number,
  committedBy: string | undefined,
): void {
  if (!Number.isSafeInteger(afterEntryId) || afterEntryId < 0) {
    throw new LedgerError("invalid_argument", `afterEntryId must be >= 0: got ${afterEntryId}`);
  }
  validateLimit(limit, JOURNAL_ENTRIES_LIMIT_MAX, "Journal limit");
  if (committedBy !== undefined) validateServerId(committedBy);
}

/** Longest bank key check value; the bank stores 43 characters of base64url. */
export const KEY_CHECK_CHARS_MAX = 128;

/**
 * Checks a bank key check value before it is stored.
 *
 * @param check The value.
 * @throws {LedgerError} "invalid_argument".
 */
export function validateKeyCheck(check: string): void {
  if (typeof check !== "string" || check.length === 0 || check.length > KEY_CHECK_CHARS_MAX) {
    throw new LedgerError(
      "invalid_argument",
      `Bank key check must be 1-${KEY_CHECK_CHARS_MAX} characters`,
    );
  }
}

/**
 * Checks an id of a customer (or any row id).
 *
 * @param id The id.
 * @param label The parameter's name, for the message.
 * @throws {LedgerError} "invalid_argument".
 */
export function validateId(id: number, label: string): void {
  if (!Number.isSafeInteger(id) || id <= 0) {
    throw new LedgerError("invalid_argument", `${label} must be a positive integer: got ${id}`);
  }
}

/**
 * Checks a page size.
 *
 * @param limit The requested number of rows.
 * @param max The largest allowed.
 * @param label The parameter's name, for the message.
 * @throws {LedgerError} "invalid_argument".
 */
export function validateLimit(limit: number, max: number, label: string): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > max) {
    throw new LedgerError("invalid_argument", `${label} must be 1 to ${max}: got ${limit}`);
  }
}

/**
 * Checks a lockout policy.
 *
 * @param policy What recordFailedLogin() was given.
 * @throws {LedgerError} "invalid_argument".
 */
export function validateLockPolicy(policy: { lockAfter: number; lockMs: number; now: number }) {
  const { lockAfter, lockMs, now } = policy ?? {};
  const ok = Number.isSafeInteger(lockAfter) && lockAfter >= 1 && Number.isSafeInteger(lockMs) &&
    lockMs >= 0 && Number.isSafeInteger(now) && now >= 0;
  if (!ok) {
    throw new LedgerError(
      "invalid_argument",
      `Lock policy needs integers lockAfter >= 1, lockMs >= 0, now >= 0: got ` +
        `${lockAfter}, ${lockMs}, ${now}`,
    );
  }
}

/**
 * Checks an audit head.
 *
 * @param head The head to store.
 * @throws {LedgerError} "invalid_argument".
 */
export function validateChainHead(head: { serverId: string; seq: number; mac: string }): void {
  const text = (value: unknown) =>
    typeof value === "string" && value.length > 0 && value.length <= AUDIT_HEAD_CHARS_MAX;
  if (!text(head?.serverId) || !text(head.mac) || !Number.isSafeInteger(head.seq) || head.seq < 0) {
    throw new LedgerError(
      "invalid_argument",
      `Audit head needs a server id, a seq >= 0 and a MAC: got seq ${String(head?.seq)}`,
    );
  }
}

/**
 * Normalises the `since` of totals().
 *
 * @param sinceIso A date-time string.
 * @returns The same instant as `toISOString()` writes it, comparable as text with stored times.
 * @throws {LedgerError} "invalid_argument".
 */
export function normaliseSince(sinceIso: string): string {
  const ms = typeof sinceIso === "string" ? Date.parse(sinceIso) : NaN;
  if (Number.isNaN(ms)) {
    throw new LedgerError(
      "invalid_argument",
      `Since must be an ISO date-time: got ${quote(sinceIso)}`,
    );
  }
  return new Date(ms).toISOString();
}

/** The first answer stored for a request id, with what was asked. */
export interface StoredRequest {
  customerId: number;
  atmId: string;
  kind: string;
  amountCents: number;
  toName: string | null;
  entryId: number | null;
  balanceCents: number | null;
  reason: string | null;
}

/**
 * Answers an operation whose request id already has a stored answer.
 *
 * @param stored The stored request.
 * @param op The operation sent now.
 * @returns The stored answer marked replayed, or "request_conflict" if anything differs.
 */
export function answerRetry(stored: StoredRequest, op: Operation): OperationResult {
  const toName = op.kind === "transfer" ? op.toName : null;
  const same = stored.customerId === op.customerId && stored.atmId === op.atmId &&
    stored.kind === op.kind && stored.amountCents === op.amountCents && stored.toName === toName;
  if (!same) return { ok: false, reason: "request_conflict", replayed: false };
  if (stored.entryId !== null && stored.balanceCents !== null) {
    return { ok: true, entryId: stored.entryId, balanceCents: stored.balanceCents, replayed: true };
  }
  return { ok: false, reason: stored.reason as RefusalReason, replayed: true };
}

/**
 * The recipient name stored with a request.
 *
 * @param op The operation.
 * @returns The transfer's recipient, else null.
 */
export function recipientOf(op: Operation): string | null {
  return op.kind === "transfer" ? op.toName : null;
}

/**
 * Quotes a value for an error message, shortened so a huge input cannot flood a log.
 *
 * @param value Anything.
 * @returns A short printable form.
 */
export function quote(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}
