/**
 * What the torture ATMs did: every money operation with its request id, how often it was sent,
 * and how it ended. The final checks compare this history with the ledger and the audit log.
 *
 * @module
 */

/** The three money operations the ATMs run. */
export type MoneyKind = "deposit" | "withdraw" | "transfer";

/** How an operation ended, as far as its ATM knows. */
export type Outcome =
  /** Not answered yet. */
  | { status: "pending" }
  /** The bank carried it out and said so; `balanceCents` is the balance it reported. */
  | { status: "ok"; balanceCents: number; replayed: boolean; resolvedAtEnd: boolean }
  /** The bank refused it (insufficient funds, ...); nothing was applied. */
  | { status: "refused"; reason: string; resolvedAtEnd: boolean }
  /** No answer arrived within the ATM's retry budget: applied or not, nobody knows yet. */
  | { status: "in_doubt" };

/** One money operation, identified by its request id. */
export interface OpRecord {
  requestId: string;
  atmId: string;
  customer: string;
  kind: MoneyKind;
  amountCents: number;
  /** The recipient of a transfer. */
  to?: string;
  /** How many times the request was sent (1 when the first try was answered). */
  sends: number;
  outcome: Outcome;
  /** Answers that should never happen (request_conflict, internal, an unreadable answer). */
  anomalies: string[];
}

/** The operations of a whole run, in the order they were started. */
export class History {
  readonly ops: OpRecord[] = [];

  /**
   * Starts recording a new operation.
   *
   * @param op Everything but `sends`, `outcome` and `anomalies`.
   * @returns The record, to be updated as the operation proceeds.
   */
  begin(op: Omit<OpRecord, "sends" | "outcome" | "anomalies">): OpRecord {
    const record: OpRecord = { ...op, sends: 0, outcome: { status: "pending" }, anomalies: [] };
    this.ops.push(record);
    return record;
  }
}

/** The figures a run ends with. */
export interface RunFigures {
  operations: number;
  kills: number;
  /** Operations the bank carried out and answered during the run. */
  acknowledged: number;
  /** Operations the bank refused and answered during the run (insufficient funds, ...). */
  refused: number;
  /** Operations sent more than once under their request id. */
  retried: number;
  /** Sends beyond the first, over all operations. */
  resends: number;
  /** Operations without an answer when their ATM gave up; each is resolved at the end. */
  inDoubt: number;
  /** Acknowledged operations missing from the ledger. */
  lost: number;
  /** Operations applied more than once. */
  duplicated: number;
}

/**
 * Counts what the history says (kills, lost and duplicated come from elsewhere).
 *
 * @param ops The operations.
 * @returns The history's part of the figures.
 */
export function historyFigures(
  ops: readonly OpRecord[],
): Pick<RunFigures, "operations" | "acknowledged" | "refused" | "retried" | "resends" | "inDoubt"> {
  let acknowledged = 0, refused = 0, retried = 0, resends = 0, inDoubt = 0;
  for (const op of ops) {
    if (op.sends > 1) retried++;
    resends += Math.max(0, op.sends - 1);
    const outcome = op.outcome;
    if (outcome.status === "in_doubt") inDoubt++;
    if (outcome.status === "ok" && outcome.resolvedAtEnd) inDoubt++;
    if (outcome.status === "refused" && outcome.resolvedAtEnd) inDoubt++;
    if (outcome.status === "ok" && !outcome.resolvedAtEnd) acknowledged++;
    if (outcome.status === "refused" && !outcome.resolvedAtEnd) refused++;
  }
  return { operations: ops.length, acknowledged, refused, retried, resends, inDoubt };
}
