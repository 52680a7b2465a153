/**
 * Applies a batch of money operations in one PostgreSQL transaction (READ COMMITTED), safely
 * while transactions of this and other bank servers run at the same time:
 *
 * 1. lock every account the batch names (senders and resolved recipients) with one
 *    SELECT ... FOR NO KEY UPDATE in id order. Every batch locks in the same order, so two
 *    batches cannot deadlock on accounts, and balances are read only under the lock, so no
 *    overdraft can slip between a check and its write. NO KEY UPDATE rather than UPDATE: the
 *    foreign-key checks of inserts (a request naming its customer) take KEY SHARE on the same
 *    rows, and KEY SHARE conflicts with FOR UPDATE, so concurrent operations on one account
 *    deadlocked.
 * 2. apply the operations one after another, as SQLite does: each claims its request id with
 *    INSERT ... ON CONFLICT DO NOTHING (a concurrent transaction holding the same id makes this
 *    wait until it ends, so an id is applied at most once across servers; an id already taken,
 *    also earlier in the same batch, is answered from its stored answer or "request_conflict"),
 *    then checks and writes balances, the entry, its postings and the request's answer.
 *
 * Every check comes before any write of its operation, so a refusal needs no savepoint: it only
 * stores its answer. An error (an unknown customer, a database failure) rolls back the whole
 * batch, so a rejected batch applied nothing.
 *
 * @module
 */

import { BALANCE_CENTS_MAX } from "../../lib/amount.ts";
import { isRetryable, type Sql, type Tx } from "./postgres_connect.ts";
import { answerRetry, recipientOf, type StoredRequest } from "./rules.ts";
import { LedgerError, type Operation, type OperationResult, type RefusalReason } from "./store.ts";

/**
 * Times one batch's transaction is tried. The lock order rules out deadlocks on accounts;
 * retries cover what is left (two batches claiming the same request ids in opposite orders, a
 * serialization failure) and are safe because an aborted transaction applied nothing.
 */
const TRANSACTION_ATTEMPTS_MAX = 5;

/** Placeholder answer of a request whose transaction is still running; never committed. */
const PENDING = "pending";

/** What applying needs besides the operations. */
export interface PgApplyContext {
  sql: Sql;
  cashAccountId: number;
}

/**
 * Applies a batch in one transaction, operations in order; resolves once committed.
 *
 * @param context The pool and house account ids.
 * @param ops The operations, already validated; at least one.
 * @returns The answers, in the order of `ops`.
 * @throws {LedgerError} "unknown_customer", with nothing of the batch applied; database errors
 * when the retries are exhausted, also with nothing applied.
 */
export async function applyBatchPg(
  context: PgApplyContext,
  ops: Operation[],
): Promise<OperationResult[]> {
  for (let attempt = 1;; attempt++) {
    try {
      return await context.sql.begin((tx) => applyInTransaction(tx, context, ops));
    } catch (error) {
      if (!isRetryable(error) || attempt >= TRANSACTION_ATTEMPTS_MAX) throw error;
    }
  }
}

async function applyInTransaction(
  tx: Tx,
  context: PgApplyContext,
  ops: Operation[],
): Promise<OperationResult[]> {
  const recipients = await lockAccounts(tx, ops);
  const results: OperationResult[] = [];
  // One after another: each operation sees the balances the previous ones left.
  for (const op of ops) results.push(await applyOne(tx, context, recipients, op));
  return results;
}

/**
 * Resolves the batch's recipient names and locks every account involved, in id order.
 *
 * @returns Recipient customer ids by name; a name absent here is no customer.
 */
async function lockAccounts(tx: Tx, ops: Operation[]): Promise<Map<string, number>> {
  const names = [...new Set(ops.map(recipientOf).filter((name) => name !== null))];
  const recipients = new Map<string, number>();
  if (names.length > 0) {
    // Customers are never renamed or removed, so resolving before locking cannot go stale.
    const rows = await tx`SELECT a.id, a.name FROM accounts a
      JOIN customers c ON c.account_id = a.id WHERE a.name IN ${tx(names)}`;
    for (const row of rows) recipients.set(String(row.name), Number(row.id));
  }
  const ids = [...new Set([...ops.map((op) => op.customerId), ...recipients.values()])]
    .sort((a, b) => a - b);
  // LockRows runs above the sort, so rows are locked in id order. Ids of no account lock nothing;
  // their operations fail with unknown_customer below.
  await tx`SELECT id FROM accounts WHERE id IN ${tx(ids)} ORDER BY id FOR NO KEY UPDATE`;
  return recipients;
}

async function applyOne(
  tx: Tx,
  context: PgApplyContext,
  recipients: Map<string, number>,
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

  let recipientId: number | null = null;
  if (op.kind === "transfer") {
    const found = recipients.get(op.toName);
    if (found === undefined) return await refuse(tx, op, "unknown_recipient");
    recipientId = found;
    if (recipientId === op.customerId) return await refuse(tx, op, "same_account");
  }
  // Locked since lockAccounts(), so these balances cannot change until the commit.
  const ids = recipientId === null ? [op.customerId] : [op.customerId, recipientId];
  const accounts = await tx`SELECT id, kind, balance_cents FROM accounts WHERE id IN ${tx(ids)}`;
  const balanceOf = (id: number) => {
    const row = accounts.find((account) => Number(account.id) === id);
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
    INSERT INTO entries (request_id, kind, atm_id, customer_id, counterparty_id, amount_cents,
      server_id)
    VALUES (${op.requestId}, ${op.kind}, ${op.atmId}, ${op.customerId}, ${recipientId},
      ${op.amountCents}, ${op.serverId ?? null})
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
