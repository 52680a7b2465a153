/**
 * The ledger in one SQLite file (`node:sqlite`), for a single bank server. WAL with
 * synchronous=FULL makes every COMMIT durable before it returns; writes take the lock up front
 * with BEGIN IMMEDIATE, so concurrent callers (and other processes such as `bank customer add`)
 * are serialised and no check-then-write can interleave. applyBatch() commits a whole batch with
 * one fsync, which is what makes group commit pay off.
 *
 * Calls are synchronous underneath and return settled promises: a call never interleaves with
 * another call on the same store.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import { INVARIANT_QUERIES } from "./invariant_queries.ts";
import {
  HISTORY_ITEMS_LIMIT_MAX,
  HOUSE_CASH,
  HOUSE_OPENING,
  normaliseSince,
  quote,
  validateAtmId,
  validateChainHead,
  validateCustomerName,
  validateId,
  validateJournalQuery,
  validateKeyCheck,
  validateLimit,
  validateLockPolicy,
  validateNewCustomer,
  validateOperation,
  validateWrappedKey,
} from "./rules.ts";
import { type ApplyContext, applyOperation } from "./sqlite_apply.ts";
import {
  toAtm,
  toChainHead,
  toCustomer,
  toCustomerListing,
  toHistoryItem,
  toJournalEntry,
} from "./rows.ts";
import { openLedgerFile } from "./sqlite_schema.ts";
import { prepareStatements, type Statements } from "./sqlite_statements.ts";
import {
  type AtmRecord,
  type ChainHead,
  type Customer,
  type HistoryItem,
  type JournalEntry,
  LedgerError,
  type LedgerStore,
  type Operation,
  type OperationResult,
  type PinHash,
} from "./store.ts";

/**
 * Opens the SQLite ledger, creating the file (mode 0600) and its schema when absent.
 *
 * @param path The ledger file, e.g. `<data dir>/ledger.sqlite`.
 * @returns The open store; call close() when done.
 * @throws {LedgerError} "corrupt" for a file that is not a ledger, "schema_unknown" for a schema
 * version this code does not know.
 *
 * @example Open a ledger
 * ```ts ignore
 * const store = await openSqliteStore("./bank-data/ledger.sqlite");
 * await store.close();
 * ```
 */
export async function openSqliteStore(path: string): Promise<LedgerStore> {
  const db = await openLedgerFile(path);
  try {
    return new SqliteStore(db);
  } catch (error) {
    db.close();
    throw error;
  }
}

class SqliteStore implements LedgerStore {
  #db: DatabaseSync | null;
  readonly #statements: Statements;
  readonly #apply: ApplyContext;
  readonly #openingAccountId: number;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#statements = prepareStatements(db);
    const houseId = (name: string) => {
      const row = this.#statements.houseAccountId.get(name);
      if (!row) throw new LedgerError("corrupt", `Ledger lacks the house account ${name}`);
      return Number(row.id);
    };
    this.#apply = { db, statements: this.#statements, cashAccountId: houseId(HOUSE_CASH) };
    this.#openingAccountId = houseId(HOUSE_OPENING);
  }

  addCustomer(input: { name: string; pin: PinHash; openingCents: number }): Promise<Customer> {
    return this.#run(() => {
      const { name, pin, openingCents } = input;
      validateCustomerName(name);
      validateNewCustomer(pin, openingCents);
      this.#transaction(() => this.#insertCustomer(name, pin, openingCents));
      return toCustomer(this.#statements.customerByName.get(name)!);
    });
  }

  #insertCustomer(name: string, pin: PinHash, openingCents: number): void {
    const s = this.#statements;
    if (s.customerAccountByName.get(name) || s.houseAccountId.get(name)) {
      throw new LedgerError("duplicate_customer", `A customer named ${quote(name)} already exists`);
    }
    const at = new Date().toISOString();
    const id = Number(s.insertAccount.run(name).lastInsertRowid);
    s.insertCustomer.run(id, pin.salt, pin.hash, pin.iterations, at);
    if (openingCents === 0) return;
    s.setBalance.run(openingCents, id);
    const entry = s.insertEntry.run(null, "opening", null, id, null, openingCents, at);
    const entryId = Number(entry.lastInsertRowid);
    s.insertPosting.run(entryId, id, openingCents, openingCents);
    s.insertPosting.run(entryId, this.#openingAccountId, -openingCents, null);
  }

  findCustomer(name: string): Promise<Customer | undefined> {
    return this.#run(() => {
      if (typeof name !== "string") return undefined;
      const row = this.#statements.customerByName.get(name);
      return row ? toCustomer(row) : undefined;
    });
  }

  recordFailedLogin(
    customerId: number,
    policy: { lockAfter: number; lockMs: number; now: number },
  ): Promise<{ failedLogins: number; lockedUntil: number | null }> {
    return this.#run(() => {
      validateId(customerId, "customerId");
      validateLockPolicy(policy);
      const { lockAfter, lockMs, now } = policy;
      const row = this.#statements.recordFailedLogin.get({
        id: customerId,
        now,
        lockAfter,
        lockMs,
      });
      if (!row) throw new LedgerError("unknown_customer", `No customer with id ${customerId}`);
      const lockedUntil = row.locked_until === null ? null : Number(row.locked_until);
      return { failedLogins: Number(row.failed_logins), lockedUntil };
    });
  }

  clearFailedLogins(customerId: number): Promise<void> {
    return this.#run(() => {
      validateId(customerId, "customerId");
      const { changes } = this.#statements.clearFailedLogins.run(customerId);
      if (Number(changes) !== 1) {
        throw new LedgerError("unknown_customer", `No customer with id ${customerId}`);
      }
    });
  }

  addAtm(id: string, wrappedKey: Uint8Array): Promise<void> {
    return this.#run(() => {
      validateAtmId(id);
      validateWrappedKey(wrappedKey);
      if (this.#statements.findAtm.get(id)) {
        throw new LedgerError("duplicate_atm", `An ATM with id ${quote(id)} already exists`);
      }
      this.#statements.insertAtm.run(id, wrappedKey, new Date().toISOString());
    });
  }

  findAtm(id: string): Promise<AtmRecord | undefined> {
    return this.#run(() => {
      if (typeof id !== "string") return undefined;
      const row = this.#statements.findAtm.get(id);
      return row ? toAtm(row) : undefined;
    });
  }

  revokeAtm(id: string): Promise<boolean> {
    return this.#run(() => {
      if (typeof id !== "string") return false;
      return Number(this.#statements.revokeAtm.run(id).changes) === 1;
    });
  }

  applyBatch(ops: Operation[]): Promise<OperationResult[]> {
    return this.#run(() => {
      if (!Array.isArray(ops)) throw new LedgerError("invalid_argument", "Batch must be an array");
      ops.forEach(validateOperation);
      if (ops.length === 0) return [];
      const at = new Date().toISOString();
      return this.#transaction(() => ops.map((op) => applyOperation(this.#apply, op, at)));
    });
  }

  balance(customerId: number): Promise<number> {
    return this.#run(() => {
      validateId(customerId, "customerId");
      const row = this.#statements.accountById.get(customerId);
      if (!row || row.kind !== "customer") {
        throw new LedgerError("unknown_customer", `No customer with id ${customerId}`);
      }
      return Number(row.balance_cents);
    });
  }

  history(customerId: number, limit: number): Promise<HistoryItem[]> {
    return this.#run(() => {
      validateId(customerId, "customerId");
      validateLimit(limit, HISTORY_ITEMS_LIMIT_MAX, "History limit");
      const rows = this.#statements.history.all(customerId, limit);
      return rows.map((row) => toHistoryItem(row, customerId));
    });
  }

  journalAfter(afterEntryId: number, limit: number, committedBy?: string): Promise<JournalEntry[]> {
    return this.#run(() => {
      validateJournalQuery(afterEntryId, limit, committedBy);
      const rows = this.#statements.journalAfter.all({
        after: afterEntryId,
        limit,
        server: committedBy ?? null,
      });
      return rows.map(toJournalEntry);
    });
  }

  auditHead(serverId: string): Promise<ChainHead | undefined> {
    return this.#run(() => {
      const row = this.#statements.auditHead.get(serverId);
      return row ? toChainHead(row) : undefined;
    });
  }

  setAuditHead(head: ChainHead): Promise<void> {
    return this.#run(() => {
      validateChainHead(head);
      this.#statements.setAuditHead.run(head.serverId, head.seq, head.mac);
    });
  }

  claimBankKeyCheck(check: string): Promise<string> {
    return this.#run(() => {
      validateKeyCheck(check);
      return this.#transaction(() => {
        const row = this.#statements.bankKeyCheck.get();
        if (!row) this.#statements.insertBankKeyCheck.run(check);
        return row ? String(row.key_check) : check;
      });
    });
  }

  listCustomers(): Promise<{ name: string; balanceCents: number; lockedUntil: number | null }[]> {
    return this.#run(() => this.#statements.listCustomers.all().map(toCustomerListing));
  }

  totals(
    sinceIso: string,
  ): Promise<{ customers: number; heldCents: number; entriesSince: number }> {
    return this.#run(() => {
      const since = normaliseSince(sinceIso);
      const row = this.#statements.totals.get()!;
      const entries = this.#statements.entriesSince.get(since)!;
      return {
        customers: Number(row.customers),
        heldCents: Number(row.held_cents),
        entriesSince: Number(entries.n),
      };
    });
  }

  checkInvariants(): Promise<{ ok: boolean; problems: string[] }> {
    return this.#run(() => {
      const db = this.#open();
      const problems = INVARIANT_QUERIES.flatMap((query) =>
        db.prepare(query).all().map((row) => String(row.problem))
      );
      return { ok: problems.length === 0, problems };
    });
  }

  close(): Promise<void> {
    const db = this.#db;
    this.#db = null;
    db?.close();
    return Promise.resolve();
  }

  #open(): DatabaseSync {
    if (!this.#db) throw new LedgerError("closed", "The ledger is closed");
    return this.#db;
  }

  /** Runs a synchronous step, turning a throw into a rejected promise like an async store. */
  #run<T>(step: () => T): Promise<T> {
    try {
      this.#open();
      return Promise.resolve(step());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Runs `step` in one write transaction; COMMIT is durable (synchronous=FULL) on return. */
  #transaction<T>(step: () => T): T {
    const db = this.#open();
    db.exec("BEGIN IMMEDIATE");
    try {
      const result = step();
      db.exec("COMMIT");
      return result;
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw error;
    }
  }
}
