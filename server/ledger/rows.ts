/**
 * Turns database rows into the store's types. Both stores select the same column names, so one
 * set of mappers serves SQLite and PostgreSQL.
 *
 * @module
 */

import type { AtmRecord, ChainHead, Customer, HistoryItem, JournalEntry } from "./store.ts";

/** A row as a driver returns it. */
export type Row = Record<string, unknown>;

/**
 * Maps a customer row (`id, name, pin_salt, pin_hash, pin_iterations, failed_logins,
 * locked_until`).
 *
 * @param row The row.
 * @returns The customer.
 */
export function toCustomer(row: Row): Customer {
  return {
    id: Number(row.id),
    name: String(row.name),
    pin: {
      salt: bytes(row.pin_salt),
      hash: bytes(row.pin_hash),
      iterations: Number(row.pin_iterations),
    },
    failedLogins: Number(row.failed_logins),
    lockedUntil: numberOrNull(row.locked_until),
  };
}

/**
 * Maps an ATM row (`id, wrapped_key, revoked, created_at`).
 *
 * @param row The row.
 * @returns The ATM.
 */
export function toAtm(row: Row): AtmRecord {
  return {
    id: String(row.id),
    wrappedKey: bytes(row.wrapped_key),
    revoked: row.revoked === true || row.revoked === 1,
    createdAt: iso(row.created_at),
  };
}

/**
 * Maps a customer listing row (`name, balance_cents, locked_until`).
 *
 * @param row The row.
 * @returns The customer's name, balance and lock.
 */
export function toCustomerListing(
  row: Row,
): { name: string; balanceCents: number; lockedUntil: number | null } {
  return {
    name: String(row.name),
    balanceCents: Number(row.balance_cents),
    lockedUntil: numberOrNull(row.locked_until),
  };
}

/**
 * Maps an audit head row (`server_id, seq, mac`).
 *
 * @param row The row.
 * @returns The chain head.
 */
export function toChainHead(row: Row): ChainHead {
  return { serverId: String(row.server_id), seq: Number(row.seq), mac: String(row.mac) };
}

/**
 * Maps a posting of one customer joined with its entry to a statement line.
 *
 * @param row `id, at, kind, customer_id, amount_cents, balance_after_cents, owner_name,
 * other_name`; amount_cents is this customer's signed posting.
 * @param customerId Whose statement it is.
 * @returns The line.
 */
export function toHistoryItem(row: Row, customerId: number): HistoryItem {
  const amountCents = Number(row.amount_cents);
  const entryKind = String(row.kind);
  let kind: HistoryItem["kind"];
  let counterparty: string | null = null;
  if (entryKind === "transfer") {
    const outgoing = Number(row.customer_id) === customerId;
    kind = outgoing ? "transfer_out" : "transfer_in";
    counterparty = outgoing ? stringOrNull(row.other_name) : String(row.owner_name);
  } else {
    kind = entryKind as HistoryItem["kind"];
  }
  return {
    entryId: Number(row.id),
    at: iso(row.at),
    kind,
    amountCents,
    counterparty,
    balanceAfterCents: Number(row.balance_after_cents),
  };
}

/**
 * Maps an entry joined with its customer's posting.
 *
 * @param row `id, request_id, at, kind, atm_id, amount_cents, server_id, owner_name, other_name,
 * balance_after_cents`.
 * @returns The journal entry.
 */
export function toJournalEntry(row: Row): JournalEntry {
  return {
    entryId: Number(row.id),
    requestId: stringOrNull(row.request_id),
    at: iso(row.at),
    kind: String(row.kind) as JournalEntry["kind"],
    atmId: stringOrNull(row.atm_id),
    customer: String(row.owner_name),
    counterparty: stringOrNull(row.other_name),
    amountCents: Number(row.amount_cents),
    balanceAfterCents: Number(row.balance_after_cents),
    serverId: stringOrNull(row.server_id),
  };
}

/** A copy in a fresh ArrayBuffer, whatever the driver returned (Uint8Array, Node Buffer). */
function bytes(value: unknown): Uint8Array<ArrayBuffer> {
  if (!(value instanceof Uint8Array)) throw new TypeError("Expected a byte column");
  return new Uint8Array(value);
}

function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function stringOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}
