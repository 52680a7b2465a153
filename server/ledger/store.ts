/**
 * The ledger's contract: a double-entry journal of money movements, the customers and ATMs it
 * serves, and what the bank needs for login lockout and audit reconciliation. Two implementations
 * honour it: SQLite (`sqlite_store.ts`, one bank server) and PostgreSQL (`postgres_store.ts`,
 * several bank servers on one database).
 *
 * Bookkeeping: every movement is a journal entry whose postings sum to zero. A posting is signed
 * from the bank's books: positive credits an account (the bank owes more), negative debits it.
 * Each customer has one account; the bank's own "house" accounts are `bank:cash` (money handed
 * in or out at ATMs) and `bank:opening` (equity behind opening balances). A customer's balance is
 * kept on their account row and always equals the sum of its postings. House accounts keep no
 * balance row: theirs is the sum of their postings, so no single row is written by every
 * transaction (on PostgreSQL that row would serialise all servers).
 *
 * Requests: every operation carries an id chosen by the ATM. The first answer for an id is stored
 * with the id, refusals included; the same operation sent again gets that answer back with
 * `replayed: true` and is never applied twice. An id sent again with anything different (customer,
 * ATM, kind, amount or recipient) gets "request_conflict", which is not stored.
 *
 * @module
 */

import type { PinHash } from "../auth/pin_hash.ts";

export type { PinHash };

/** A customer as the bank sees it at login. */
export interface Customer {
  id: number;
  name: string;
  pin: PinHash;
  /** Wrong PINs in a row since the last successful login or expired lock. */
  failedLogins: number;
  /** Ms since the epoch until which logins are refused; may lie in the past. */
  lockedUntil: number | null;
}

/** A registered ATM. */
export interface AtmRecord {
  id: string;
  /** The ATM's pre-shared key, wrapped by the bank key; never stored in the clear. */
  wrappedKey: Uint8Array<ArrayBuffer>;
  revoked: boolean;
  createdAt: string;
}

/** A money operation requested at an ATM. Amounts are cents, 1 to AMOUNT_CENTS_MAX. */
export type Operation =
  | {
    kind: "deposit" | "withdraw";
    requestId: string;
    atmId: string;
    customerId: number;
    amountCents: number;
    /** The bank server applying it, stored with its entry; not part of the request's identity. */
    serverId?: string;
  }
  | {
    kind: "transfer";
    requestId: string;
    atmId: string;
    customerId: number;
    toName: string;
    amountCents: number;
    /** The bank server applying it, stored with its entry; not part of the request's identity. */
    serverId?: string;
  };

/** Why an operation was refused. Nothing was applied. */
export type RefusalReason =
  | "insufficient_funds"
  | "unknown_recipient"
  | "same_account"
  | "balance_limit"
  | "request_conflict";

/** The answer to an operation; `replayed` is true when it is the stored answer to a retry. */
export type OperationResult =
  | { ok: true; entryId: number; balanceCents: number; replayed: boolean }
  | { ok: false; reason: RefusalReason; replayed: boolean };

/** One line of a customer's statement. */
export interface HistoryItem {
  entryId: number;
  /** ISO 8601 time of the entry. */
  at: string;
  kind: "opening" | "deposit" | "withdraw" | "transfer_in" | "transfer_out";
  /** Signed for this customer: positive in, negative out. */
  amountCents: number;
  /** The other customer of a transfer, else null. */
  counterparty: string | null;
  /** This customer's balance right after the entry. */
  balanceAfterCents: number;
}

/** A journal entry as the audit log records it. */
export interface JournalEntry {
  entryId: number;
  /** The ATM's request id; null for opening balances. */
  requestId: string | null;
  at: string;
  kind: "opening" | "deposit" | "withdraw" | "transfer";
  atmId: string | null;
  /** The customer who made the operation (the sender of a transfer). */
  customer: string;
  /** The recipient of a transfer, else null. */
  counterparty: string | null;
  /** Always positive. */
  amountCents: number;
  /** The customer's balance right after the entry. */
  balanceAfterCents: number;
  /** The bank server that committed it; null for entries of administrative commands. */
  serverId: string | null;
}

/** The last audit record a bank server made durable: its sequence number and chained MAC. */
export interface ChainHead {
  serverId: string;
  seq: number;
  mac: string;
}

/** Why the ledger refused a call. */
export type LedgerErrorCode =
  | "duplicate_customer"
  | "duplicate_atm"
  | "unknown_customer"
  | "unknown_atm"
  | "schema_unknown"
  | "schema_outdated"
  | "schema_missing"
  | "corrupt"
  | "invalid_name"
  | "invalid_amount"
  | "invalid_argument"
  | "unavailable"
  | "server_id_taken"
  | "closed";

/** A ledger call that was refused or a ledger that cannot be used. Nothing was changed. */
export class LedgerError extends Error {
  /** Why. */
  readonly code: LedgerErrorCode;

  /**
   * Creates the error.
   *
   * @param code Why.
   * @param message A sentence naming the offending value.
   * @param options `cause`: the underlying database error, if any.
   */
  constructor(code: LedgerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LedgerError";
    this.code = code;
  }
}

/** What every ledger implementation offers; all amounts are integer cents. */
export interface LedgerStore {
  /**
   * Adds a customer and, when `openingCents` > 0, an opening entry against `bank:opening`.
   *
   * @throws {LedgerError} "invalid_name", "invalid_amount", "invalid_argument" or
   * "duplicate_customer".
   */
  addCustomer(input: { name: string; pin: PinHash; openingCents: number }): Promise<Customer>;
  /** Finds a customer by name; undefined also for a name that is not a valid customer name. */
  findCustomer(name: string): Promise<Customer | undefined>;
  /**
   * Counts a wrong PIN; locks for lockMs after lockAfter failures in a row. A lock that has
   * expired by `now` is forgotten first, so the count starts again at 1.
   *
   * @throws {LedgerError} "unknown_customer" or "invalid_argument".
   */
  recordFailedLogin(
    customerId: number,
    policy: { lockAfter: number; lockMs: number; now: number },
  ): Promise<{ failedLogins: number; lockedUntil: number | null }>;
  /** Resets the wrong-PIN count and any lock. */
  clearFailedLogins(customerId: number): Promise<void>;
  /** @throws {LedgerError} "invalid_name" or "duplicate_atm". */
  addAtm(id: string, wrappedKey: Uint8Array): Promise<void>;
  /** Finds an ATM, revoked or not. */
  findAtm(id: string): Promise<AtmRecord | undefined>;
  /** Marks an ATM revoked; false when there is no such ATM. */
  revokeAtm(id: string): Promise<boolean>;
  /**
   * One durable transaction for the batch; results in the same order. Resolves only after the
   * commit is durable. Refusals are results; a rejection means nothing in the batch was applied.
   *
   * @throws {LedgerError} "invalid_argument" for a malformed operation, "unknown_customer".
   */
  applyBatch(ops: Operation[]): Promise<OperationResult[]>;
  /** @throws {LedgerError} "unknown_customer". */
  balance(customerId: number): Promise<number>;
  /** The customer's last `limit` entries (1 to HISTORY_ITEMS_LIMIT_MAX), newest first. */
  history(customerId: number, limit: number): Promise<HistoryItem[]>;
  /**
   * Journal entries with id > afterEntryId, oldest first (for audit-log reconciliation). With
   * `committedBy`, only the entries that server committed and those of administrative commands
   * (no server): what that server's audit log must hold when several servers share the ledger.
   */
  journalAfter(afterEntryId: number, limit: number, committedBy?: string): Promise<JournalEntry[]>;
  /** The audit head last stored for a server. */
  auditHead(serverId: string): Promise<ChainHead | undefined>;
  /**
   * Stores a server's audit head when its seq is above the stored one; an older or equal head
   * changes nothing. Flushes that finish together (group commit, console sign-in, auto-flush)
   * store their heads without an order between them, and on PostgreSQL each may run on its own
   * connection: the stored head must never move back, or a log cut back to it would pass.
   */
  setAuditHead(head: ChainHead): Promise<void>;
  /**
   * The check value of the bank key this ledger belongs to. The first call records `check`;
   * every call returns what is recorded, so a server holding another bank key can tell.
   *
   * @throws {LedgerError} "invalid_argument" for an empty or over-long value.
   */
  claimBankKeyCheck(check: string): Promise<string>;
  /** Every customer by name. */
  listCustomers(): Promise<{ name: string; balanceCents: number; lockedUntil: number | null }[]>;
  /** Customers, money they hold, and entries made at or after `sinceIso`. */
  totals(sinceIso: string): Promise<{ customers: number; heldCents: number; entriesSince: number }>;
  /** Balances equal the sum of postings, every entry sums to zero, no negative customer balance. */
  checkInvariants(): Promise<{ ok: boolean; problems: string[] }>;
  /** Closes the store; later calls fail with "closed". */
  close(): Promise<void>;
}
