/**
 * Applies one money operation inside the SQLite batch transaction. Each new operation runs in its
 * own SAVEPOINT: a refusal found halfway (a transfer whose recipient would go over the balance
 * limit after the sender was already debited) rolls back to it, so the batch's other operations
 * stand and the refusal itself is stored as the request's answer.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import { BALANCE_CENTS_MAX } from "../../lib/amount.ts";
import { answerRetry, recipientOf, type StoredRequest } from "./rules.ts";
import type { Statements } from "./sqlite_statements.ts";
import { LedgerError, type Operation, type OperationResult, type RefusalReason } from "./store.ts";

/** What the apply step needs from the open store. */
export interface ApplyContext {
  db: DatabaseSync;
  statements: Statements;
  cashAccountId: number;
}

/** A refusal found while applying; unwinds to the operation's savepoint. */
class Refusal extends Error {
  readonly reason: RefusalReason;

  constructor(reason: RefusalReason) {
    super(`Operation refused: ${reason}`);
    this.name = "Refusal";
    this.reason = reason;
  }
}

/**
 * Applies an operation, or answers it from the stored first answer when its id is known.
 * Must run inside a write transaction.
 *
 * @param context The open store.
 * @param op The operation, already validated.
 * @param at The entry time (ISO).
 * @returns The operation's answer.
 * @throws {LedgerError} "unknown_customer"; the caller rolls the batch back.
 */
export function applyOperation(context: ApplyContext, op: Operation, at: string): OperationResult {
  const { db, statements } = context;
  const stored = statements.findRequest.get(op.requestId);
  if (stored) return answerRetry(toStoredRequest(stored), op);

  db.exec("SAVEPOINT operation");
  try {
    const result = applyNew(context, op, at);
    db.exec("RELEASE operation");
    return result;
  } catch (error) {
    db.exec("ROLLBACK TO operation");
    db.exec("RELEASE operation");
    if (!(error instanceof Refusal)) throw error;
    storeAnswer(statements, op, { entryId: null, balanceCents: null, reason: error.reason });
    return { ok: false, reason: error.reason, replayed: false };
  }
}

function applyNew(context: ApplyContext, op: Operation, at: string): OperationResult {
  const balance = customerBalance(context.statements, op.customerId);
  const posted = op.kind === "transfer"
    ? applyTransfer(context, { op, at, balance })
    : applyCash(context, { op, at, balance });
  storeAnswer(context.statements, op, { ...posted, reason: null });
  return { ok: true, ...posted, replayed: false };
}

/** An operation being applied, with the customer's balance before it. */
interface Pending<Op extends Operation> {
  op: Op;
  at: string;
  balance: number;
}

/** What a posted operation answers. */
interface Posted {
  entryId: number;
  balanceCents: number;
}

function applyCash(context: ApplyContext, pending: Pending<Operation>): Posted {
  const { statements, cashAccountId } = context;
  const { op, balance } = pending;
  const amount = op.kind === "deposit" ? op.amountCents : -op.amountCents;
  const after = balance + amount;
  if (after < 0) throw new Refusal("insufficient_funds");
  if (after > BALANCE_CENTS_MAX) throw new Refusal("balance_limit");
  statements.setBalance.run(after, op.customerId);
  const entryId = postEntry(statements, { ...pending, counterpartyId: null }, [
    [op.customerId, amount, after],
    [cashAccountId, -amount, null],
  ]);
  return { entryId, balanceCents: after };
}

function applyTransfer(
  context: ApplyContext,
  pending: Pending<Extract<Operation, { kind: "transfer" }>>,
): Posted {
  const { statements } = context;
  const { op, balance } = pending;
  const recipient = statements.customerAccountByName.get(op.toName);
  if (!recipient) throw new Refusal("unknown_recipient");
  const recipientId = Number(recipient.id);
  if (recipientId === op.customerId) throw new Refusal("same_account");
  const after = balance - op.amountCents;
  if (after < 0) throw new Refusal("insufficient_funds");
  statements.setBalance.run(after, op.customerId);
  // Checked after the debit on purpose: the savepoint must undo it, and tests prove it does.
  const recipientAfter = Number(recipient.balance_cents) + op.amountCents;
  if (recipientAfter > BALANCE_CENTS_MAX) throw new Refusal("balance_limit");
  statements.setBalance.run(recipientAfter, recipientId);
  const entryId = postEntry(statements, { ...pending, counterpartyId: recipientId }, [
    [op.customerId, -op.amountCents, after],
    [recipientId, op.amountCents, recipientAfter],
  ]);
  return { entryId, balanceCents: after };
}

function customerBalance(statements: Statements, customerId: number): number {
  const row = statements.accountById.get(customerId);
  if (!row || row.kind !== "customer") {
    throw new LedgerError("unknown_customer", `No customer with id ${customerId}`);
  }
  return Number(row.balance_cents);
}

/** A posting: account id, signed amount, the account's balance after (null for house accounts). */
type PostingRow = [accountId: number, amountCents: number, balanceAfterCents: number | null];

function postEntry(
  statements: Statements,
  entry: { op: Operation; at: string; counterpartyId: number | null },
  postings: PostingRow[],
): number {
  const { op, at, counterpartyId } = entry;
  const sum = postings.reduce((total, [, cents]) => total + cents, 0);
  if (sum !== 0) throw new Error(`Invariant: postings of ${op.requestId} sum to ${sum}`);
  const inserted = statements.insertEntry.run(
    op.requestId,
    op.kind,
    op.atmId,
    op.customerId,
    counterpartyId,
    op.amountCents,
    at,
    op.serverId ?? null,
  );
  const entryId = Number(inserted.lastInsertRowid);
  for (const [accountId, cents, after] of postings) {
    statements.insertPosting.run(entryId, accountId, cents, after);
  }
  return entryId;
}

function storeAnswer(
  statements: Statements,
  op: Operation,
  answer: { entryId: number | null; balanceCents: number | null; reason: string | null },
): void {
  statements.insertRequest.run(
    op.requestId,
    op.customerId,
    op.atmId,
    op.kind,
    op.amountCents,
    recipientOf(op),
    answer.entryId,
    answer.balanceCents,
    answer.reason,
  );
}

function toStoredRequest(row: Record<string, unknown>): StoredRequest {
  const numberOrNull = (value: unknown) => value === null ? null : Number(value);
  return {
    customerId: Number(row.customer_id),
    atmId: String(row.atm_id),
    kind: String(row.kind),
    amountCents: Number(row.amount_cents),
    toName: row.to_name === null ? null : String(row.to_name),
    entryId: numberOrNull(row.entry_id),
    balanceCents: numberOrNull(row.balance_cents),
    reason: row.reason === null ? null : String(row.reason),
  };
}
