/**
 * Applies one money operation in its own PostgreSQL transaction (READ COMMITTED), safely while
 * other transactions of this and other bank servers run at the same time:
 *
 * 1. claim the request id: INSERT ... ON CONFLICT DO NOTHING. A concurrent transaction holding
 *    the same id makes this wait until it ends, so an id is applied at most once across servers;
 *    when the id is already taken, the stored answer is returned (or "request_conflict").
 * 2. lock the accounts involved with SELECT ... FOR UPDATE, always in id order, so two transfers
 *    in opposite directions cannot deadlock, and read balances only under the lock, so no
 *    overdraft can slip between the check and the write.
 * 3. check, then write balances, the entry, its postings, and the request's answer.
 *
 * A transaction PostgreSQL aborts as a deadlock or serialization failure is run again, a bounded
 * number of times.
 *
 * @module
 */

import { BALANCE_CENTS_MAX } from "../../lib/amount.ts";
import { isRetryable, type Sql, type Tx } from "./postgres_connect.ts";
import { answerRetry, recipientOf, type StoredRequest } from "./rules.ts";
import { LedgerError, type Operation, type OperationResult, type RefusalReason } from "./store.ts";

/**
 * Times one operation's transaction is tried. The lock order rules out deadlocks between
 * ledger transactions; retries cover what is left (e.g. a lock cycle with maintenance work).
 */
const TRANSACTION_ATTEMPTS_MAX = 5;

/** Placeholder answer of a request whose transaction is still running; never committed. */
const PENDING = "pending";

/** What applying needs besides the pool. */
export interface PgApplyContext {
  sql: Sql;
  cashAccountId: number;
}

/**
 * Applies an operation in its own transaction; resolves once committed.
 *
 * @param context The pool and house account ids.
 * @param op The operation, already validated.
 * @returns The answer.
 * @throws {LedgerError} "unknown_customer"; database errors when retries are exhausted.
 */
export async function applyOperationPg(
  context: PgApplyContext,
  op: Operation,
): Promise<OperationResult> {
  for (let attempt = 1;; attempt++) {
    try {
      return await context.sql.begin((tx) => applyInTransaction(tx, context, op));
    } catch (error) {
      if (!isRetryable(error) || attempt >= TRANSACTION_ATTEMPTS_MAX) throw error;
    }
  }
}

async function applyInTransaction(
  tx: Tx,
  context: PgApplyContext,
  op: Operation,
): Promise<OperationResult> {
  // claim the request id
  const claimed = await tx`
    INSERT INTO requests (request_id, customer_id, atm_id, kind, amount_cents, to_name, reason)
    VALUES (${op.requestId}, ${op.customerId}, ${op.atmId}, ${op.kind}, ${op.amountCents},
      ${recipientOf(op)}, ${PENDING})
    ON CONFLICT (request_id) DO NOTHING RETURNING request_id`.catch((error) => {
    // 23503: the customer id has no account row (foreign key).
    if ((error as { code?: string }).code === "23503") throw unknownCustomer(op.customerId);
    throw error;
  });
  if (claimed.length === 0) return answerRetry(await storedRequest(tx, op.requestId), op);

  // resolve the recipient, then lock every account involved in id order
  let recipientId: number | null = null;
  if (op.kind === "transfer") {
    const [recipient] = await tx`SELECT a.id FROM accounts a
      JOIN customers c ON c.account_id = a.id WHERE a.name = ${op.toName}`;
    if (!recipient) return await refuse(tx, op, "unknown_recipient");
    recipientId = Number(recipient.id);
    if (recipientId === op.customerId) return await refuse(tx, op, "same_account");
  }
  const ids = recipientId === null ? [op.customerId] : [op.customerId, recipientId];
  const locked = await tx`SELECT id, kind, balance_cents FROM accounts
    WHERE id IN ${tx(ids)} ORDER BY id FOR UPDATE`;
  const balanceOf = (id: number) => {
    const row = locked.find((account) => Number(account.id) === id);
    if (!row || row.kind !== "customer") throw unknownCustomer(id);
    return Number(row.balance_cents);
  };

  // check, then write
  const balance = balanceOf(op.customerId);
  const signed = op.kind === "deposit" ? op.amountCents : -op.amountCents;
  const after = balance + signed;
  if (after < 0) return await refuse(tx, op, "insufficient_funds");
  if (after > BALANCE_CENTS_MAX) return await refuse(tx, op, "balance_limit");
  const other = recipientId === null
    ? { id: context.cashAccountId, after: null }
    : { id: recipientId, after: balanceOf(recipientId) + op.amountCents };
  if (other.after !== null && other.after > BALANCE_CENTS_MAX) {
    return await refuse(tx, op, "balance_limit");
  }
  const entryId = await writeEntry(tx, { op, recipientId, signed, after, other });
  return { ok: true, entryId, balanceCents: after, replayed: false };
}

async function writeEntry(
  tx: Tx,
  entry: {
    op: Operation;
    recipientId: number | null;
    signed: number;
    after: number;
    other: { id: number; after: number | null };
  },
): Promise<number> {
  const { op, recipientId, signed, after, other } = entry;
  await tx`UPDATE accounts SET balance_cents = ${after} WHERE id = ${op.customerId}`;
  if (other.after !== null) {
    await tx`UPDATE accounts SET balance_cents = ${other.after} WHERE id = ${other.id}`;
  }
  const [{ id }] = await tx`
    INSERT INTO entries (request_id, kind, atm_id, customer_id, counterparty_id, amount_cents)
    VALUES (${op.requestId}, ${op.kind}, ${op.atmId}, ${op.customerId}, ${recipientId},
      ${op.amountCents})
    RETURNING id`;
  const entryId = Number(id);
  await tx`INSERT INTO postings (entry_id, account_id, amount_cents, balance_after_cents)
    VALUES (${entryId}, ${op.customerId}, ${signed}, ${after}),
      (${entryId}, ${other.id}, ${-signed}, ${other.after})`;
  await tx`UPDATE requests SET entry_id = ${entryId}, balance_cents = ${after}, reason = NULL
    WHERE request_id = ${op.requestId}`;
  return entryId;
}

async function refuse(tx: Tx, op: Operation, reason: RefusalReason): Promise<OperationResult> {
  await tx`UPDATE requests SET reason = ${reason} WHERE request_id = ${op.requestId}`;
  return { ok: false, reason, replayed: false };
}

async function storedRequest(tx: Tx, requestId: string): Promise<StoredRequest> {
  const [row] = await tx`SELECT customer_id, atm_id, kind, amount_cents, to_name, entry_id,
    balance_cents, reason FROM requests WHERE request_id = ${requestId}`;
  if (!row || row.reason === PENDING) {
    throw new LedgerError("corrupt", `Request ${requestId} has no committed answer`);
  }
  return {
    customerId: Number(row.customer_id),
    atmId: String(row.atm_id),
    kind: String(row.kind),
    amountCents: Number(row.amount_cents),
    toName: row.to_name === null ? null : String(row.to_name),
    entryId: row.entry_id === null ? null : Number(row.entry_id),
    balanceCents: row.balance_cents === null ? null : Number(row.balance_cents),
    reason: row.reason === null ? null : String(row.reason),
  };
}

function unknownCustomer(id: number): LedgerError {
  return new LedgerError("unknown_customer", `No customer with id ${id}`);
}
