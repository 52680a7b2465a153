/**
 * The bank itself, independent of the network: who may log in, what each operation does to the
 * ledger, and what goes to the audit log and the live activity feed. A session (`session.ts`)
 * turns channel records into calls on this class.
 *
 * Every transaction goes through one group-commit queue: the ledger batch commits (one fsync),
 * then the batch's audit records are made durable (one more fsync), and only then are the callers
 * answered. If either step fails the bank stops acknowledging transactions until restarted, since
 * it can no longer promise that what it acknowledges is on disk.
 *
 * @module
 */

import { formatCents, parseAmount } from "../lib/amount.ts";
import { ActivityFeed } from "./activity.ts";
import type { AuditEvent, AuditLog } from "./audit/mod.ts";
import { recordJournalGap } from "./audit_recovery.ts";
import { type BankSecrets, unwrapAtmKey } from "./bank_secrets.ts";
import { LOGIN_FAILURES_MAX, PIN_CHECKS_CONCURRENT_MAX } from "./constants.ts";
import { verifyAgainstDummy, verifyPin } from "./auth/pin_hash.ts";
import { GroupCommit } from "./ledger/group_commit.ts";
import type { Customer, LedgerStore, Operation, OperationResult } from "./ledger/store.ts";
import type { Logger } from "./logger.ts";
import { Semaphore } from "./semaphore.ts";
import { TransactionMetrics } from "./metrics.ts";

/** What the bank needs to run. */
export interface BankOptions {
  store: LedgerStore;
  audit: AuditLog;
  secrets: BankSecrets;
  logger: Logger;
  /** Names this server in its audit records and in the ledger entries it commits. */
  serverId: string;
  /**
   * True when other bank servers share the ledger (PostgreSQL): the audit log then reconciles
   * only the entries this server committed. Default false (one server owns the ledger).
   */
  ledgerShared?: boolean;
  /** How long an account stays locked after {@link LOGIN_FAILURES_MAX} wrong PINs. */
  lockoutMs: number;
  /** Clock in ms since the epoch; tests may pass their own. */
  now?: () => number;
}

/** Outcome of a login attempt. Failures carry no reason: the ATM must not learn it. */
export type LoginOutcome = { ok: true; customer: Customer } | { ok: false };

/** The bank could not make a transaction durable and refuses to go on acknowledging. */
export class BankUnavailableError extends Error {
  /** Always "not_durable". */
  readonly code = "not_durable";

  /** Creates the error, keeping the storage failure as `cause`. */
  constructor(cause: unknown) {
    super("The bank could not make transactions durable and stopped accepting them", { cause });
    this.name = "BankUnavailableError";
  }
}

/** Money operations an ATM may request, as the session hands them over. */
export type MoneyRequest =
  | { kind: "deposit" | "withdraw"; requestId: string; amount: string }
  | { kind: "transfer"; requestId: string; amount: string; to: string };

/** A ledger operation that also carries the customer's name for its audit record. */
type NamedOperation = Operation & { customerName: string };

/** The bank: login, money operations, audit and the activity feed. */
export class Bank {
  /** Every audited event, live, for the console. */
  readonly activity = new ActivityFeed();
  /** Money operations per second and their latency, for the console. */
  readonly metrics = new TransactionMetrics();
  readonly #options: BankOptions;
  readonly #now: () => number;
  readonly #pinChecks = new Semaphore(PIN_CHECKS_CONCURRENT_MAX);
  readonly #commits: GroupCommit<NamedOperation, OperationResult>;
  #failure: BankUnavailableError | null = null;

  /** Creates the bank over an open store and audit log. */
  constructor(options: BankOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#commits = new GroupCommit({ commit: (ops) => this.#commitBatch(ops) });
  }

  /** Id of this server, as written in its audit records. */
  get serverId(): string {
    return this.#options.serverId;
  }

  /** The ledger, for read-only views such as the console. */
  get store(): LedgerStore {
    return this.#options.store;
  }

  /**
   * Appends an event to the audit log (durable with the next flush) and publishes it live.
   *
   * @param event The event; never include a PIN or key.
   */
  record(event: AuditEvent): void {
    this.#options.audit.append(event);
    this.activity.publish({ ...event, at: new Date(this.#now()).toISOString() });
  }

  /**
   * Tells whether an ATM is still registered and not revoked; sessions ask again while they run,
   * so a revocation also ends the sessions already open.
   *
   * @param atmId The authenticated ATM id of a session.
   * @returns False for a revoked or removed ATM.
   */
  async isAtmActive(atmId: string): Promise<boolean> {
    const atm = await this.#options.store.findAtm(atmId);
    return atm !== undefined && !atm.revoked;
  }

  /**
   * Finds the pre-shared key of an ATM that exists and is not revoked.
   *
   * @param atmId The id the ATM sent in its hello.
   * @returns The key, or undefined for an unknown or revoked ATM.
   */
  async lookupPsk(atmId: string): Promise<Uint8Array<ArrayBuffer> | undefined> {
    const atm = await this.#options.store.findAtm(atmId);
    if (!atm || atm.revoked) return undefined;
    return await unwrapAtmKey(this.#options.secrets, atmId, atm.wrappedKey);
  }

  /**
   * Checks a customer's PIN. Unknown users, wrong PINs and locked accounts all cost one PIN
   * check and all return the same failure.
   *
   * @param atmId The ATM the customer is at.
   * @param user The user name as typed.
   * @param pin The PIN as typed; used only for the check.
   * @returns The customer on success.
   */
  login(atmId: string, user: string, pin: string): Promise<LoginOutcome> {
    return this.#pinChecks.run(() => this.#checkLogin(atmId, user.toLowerCase(), pin));
  }

  async #checkLogin(atmId: string, user: string, pin: string): Promise<LoginOutcome> {
    const { store, secrets } = this.#options;
    // A ledger failure propagates: the session answers "internal", and an outage is not
    // recorded as a login with an unknown user name.
    const customer = await store.findCustomer(user);
    const now = this.#now();
    if (!customer) {
      await verifyAgainstDummy(pin, secrets.pinPepper);
      this.record({ type: "login_failed", atmId, customer: user, reason: "unknown_user" });
      return { ok: false };
    }
    if (customer.lockedUntil !== null && customer.lockedUntil > now) {
      await verifyAgainstDummy(pin, secrets.pinPepper);
      this.record({ type: "login_failed", atmId, customer: user, reason: "locked" });
      return { ok: false };
    }
    if (!await verifyPin(pin, customer.pin, secrets.pinPepper)) {
      const policy = { lockAfter: LOGIN_FAILURES_MAX, lockMs: this.#options.lockoutMs, now };
      const state = await store.recordFailedLogin(customer.id, policy);
      this.record({
        type: "login_failed",
        atmId,
        customer: user,
        reason: "wrong_pin",
        failedLogins: state.failedLogins,
      });
      if (state.lockedUntil !== null && state.failedLogins === LOGIN_FAILURES_MAX) {
        const until = new Date(state.lockedUntil).toISOString();
        this.record({ type: "lockout", atmId, customer: user, until });
      }
      return { ok: false };
    }
    if (customer.failedLogins > 0) await store.clearFailedLogins(customer.id);
    this.record({ type: "login_ok", atmId, customer: user });
    return { ok: true, customer };
  }

  /**
   * Applies a deposit, withdrawal or transfer for a logged-in customer, answering only once the
   * ledger entry and its audit record are durable.
   *
   * @param atmId The ATM that sent the request.
   * @param customer The logged-in customer.
   * @param request The operation with its amount as typed.
   * @returns The ledger's result.
   * @throws {AmountError} When the amount is malformed; nothing is applied.
   * @throws {BankUnavailableError} When the bank can no longer make transactions durable.
   */
  async transact(
    atmId: string,
    customer: Customer,
    request: MoneyRequest,
  ): Promise<OperationResult> {
    let amountCents: number;
    try {
      amountCents = parseAmount(request.amount);
    } catch (error) {
      // an attempted transaction is audited even when its amount does not parse
      const { requestId, kind: op } = request;
      this.record({
        type: "tx",
        requestId,
        atmId,
        customer: customer.name,
        op,
        result: "bad_amount",
      });
      throw error;
    }
    if (this.#failure) throw this.#failure;
    const base = {
      requestId: request.requestId,
      atmId,
      customerId: customer.id,
      customerName: customer.name,
      amountCents,
      serverId: this.#options.serverId,
    };
    const op: NamedOperation = request.kind === "transfer"
      ? { ...base, kind: "transfer", toName: request.to.toLowerCase() }
      : { ...base, kind: request.kind };
    return await this.#commits.submit(op);
  }

  /** The server id that journal reconciliation is scoped to, on a shared ledger only. */
  #committedBy(): string | undefined {
    return this.#options.ledgerShared ? this.#options.serverId : undefined;
  }

  async #commitBatch(ops: NamedOperation[]): Promise<OperationResult[]> {
    const { store, audit } = this.#options;
    try {
      const results = await store.applyBatch(ops);
      // entries other processes committed (administrative commands; on a shared ledger only
      // those, since other servers record their own)
      await recordJournalGap(store, audit, results, this.#committedBy());
      ops.forEach((op, i) => this.record(this.#transactionEvent(op, results[i])));
      await this.flushAudit();
      return results;
    } catch (error) {
      this.#failure ??= new BankUnavailableError(error);
      this.#options.logger.warn("bank", "durability_lost", {
        error: error instanceof Error ? error.message : String(error),
      });
      throw this.#failure;
    }
  }

  #transactionEvent(op: NamedOperation, result: OperationResult): AuditEvent {
    return {
      type: "tx",
      requestId: op.requestId,
      atmId: op.atmId,
      customer: op.customerName,
      op: op.kind,
      amountCents: op.amountCents,
      amount: formatCents(op.amountCents),
      counterparty: op.kind === "transfer" ? op.toName : undefined,
      result: result.ok ? "ok" : result.reason,
      replayed: result.replayed,
      ...(result.ok ? { entryId: result.entryId, balanceCents: result.balanceCents } : {}),
    };
  }

  /**
   * Flushes what the audit log still buffers (events outside transactions).
   *
   * @returns Once durable.
   */
  async flushAudit(): Promise<void> {
    const head = await this.#options.audit.flush();
    await this.#options.store.setAuditHead(head);
  }
}
