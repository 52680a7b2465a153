/**
 * The ledger in PostgreSQL, for several bank servers sharing one database. applyBatch() applies a
 * batch in one transaction that first locks every account it touches in a fixed order (see
 * `postgres_apply.ts`), so no overdraft is possible across processes, a request id is applied
 * once whichever server it lands on, and a rejected batch applied nothing. It resolves only
 * after the commit, which PostgreSQL's default synchronous_commit makes durable.
 *
 * @module
 */

export { migratePostgres } from "./postgres_schema.ts";
import { INVARIANT_QUERIES } from "./invariant_queries.ts";
import { applyBatchPg, type PgApplyContext } from "./postgres_apply.ts";
import { connectPostgres, type Sql, type Tx, unavailable } from "./postgres_connect.ts";
import { checkPostgresSchema } from "./postgres_schema.ts";
import {
  toAtm,
  toChainHead,
  toCustomer,
  toCustomerListing,
  toHistoryItem,
  toJournalEntry,
} from "./rows.ts";
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
 * Opens the PostgreSQL ledger. The schema must exist: run {@link migratePostgres} first.
 *
 * @param url A `postgres://` URL; it may hold a password, which never appears in errors.
 * @returns The open store; call close() when done.
 * @throws {LedgerError} "unavailable", "schema_missing", "schema_unknown" or "corrupt".
 *
 * @example Open a shared ledger
 * ```ts ignore
 * await migratePostgres("postgres://bank@127.0.0.1:5432/bank");
 * const store = await openPostgresStore("postgres://bank@127.0.0.1:5432/bank");
 * await store.close();
 * ```
 */
export async function openPostgresStore(url: string): Promise<LedgerStore> {
  const sql = connectPostgres(url);
  try {
    await checkPostgresSchema(sql, url);
    const houses = await sql`SELECT id, name FROM accounts WHERE kind = 'house'`;
    const houseId = (name: string) => {
      const row = houses.find((house) => house.name === name);
      if (!row) throw new LedgerError("corrupt", `Ledger lacks the house account ${name}`);
      return Number(row.id);
    };
    return new PostgresStore(sql, { cash: houseId(HOUSE_CASH), opening: houseId(HOUSE_OPENING) });
  } catch (error) {
    await sql.end({ timeout: 0 });
    if (error instanceof LedgerError) throw error;
    throw unavailable(url, error);
  }
}

class PostgresStore implements LedgerStore {
  readonly #sql: Sql;
  readonly #apply: PgApplyContext;
  readonly #openingAccountId: number;
  /** Calls started and not yet settled; close() waits for them before ending the pool. */
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Set by the first close(); later calls fail with "closed". */
  #closing: Promise<void> | undefined;

  constructor(sql: Sql, houses: { cash: number; opening: number }) {
    this.#sql = sql;
    this.#apply = { sql, cashAccountId: houses.cash };
    this.#openingAccountId = houses.opening;
  }

  addCustomer(input: { name: string; pin: PinHash; openingCents: number }) {
    return this.#run(async (sql) => {
      const { name, pin, openingCents } = input;
      validateCustomerName(name);
      validateNewCustomer(pin, openingCents);
      await sql.begin((tx) => this.#insertCustomer(tx, name, pin, openingCents));
      return (await this.#findCustomerOn(sql, name))!;
    });
  }

  async #insertCustomer(tx: Tx, name: string, pin: PinHash, openingCents: number) {
    const [account] = await tx`INSERT INTO accounts (name, kind, balance_cents)
      VALUES (${name}, 'customer', ${openingCents}) ON CONFLICT (name) DO NOTHING RETURNING id`;
    if (!account) {
      throw new LedgerError("duplicate_customer", `A customer named ${quote(name)} already exists`);
    }
    const id = Number(account.id);
    await tx`INSERT INTO customers (account_id, pin_salt, pin_hash, pin_iterations)
      VALUES (${id}, ${pin.salt}, ${pin.hash}, ${pin.iterations})`;
    if (openingCents === 0) return;
    const [entry] = await tx`INSERT INTO entries (kind, customer_id, amount_cents)
      VALUES ('opening', ${id}, ${openingCents}) RETURNING id`;
    await tx`INSERT INTO postings (entry_id, account_id, amount_cents, balance_after_cents)
      VALUES (${entry.id}, ${id}, ${openingCents}, ${openingCents}),
        (${entry.id}, ${this.#openingAccountId}, ${-openingCents}, NULL)`;
  }

  findCustomer(name: string): Promise<Customer | undefined> {
    return this.#run((sql) => this.#findCustomerOn(sql, name));
  }

  async #findCustomerOn(sql: Sql, name: string): Promise<Customer | undefined> {
    if (typeof name !== "string") return undefined;
    const [row] = await sql`SELECT a.id, a.name, c.pin_salt, c.pin_hash, c.pin_iterations,
      c.failed_logins, c.locked_until FROM accounts a JOIN customers c ON c.account_id = a.id
      WHERE a.name = ${name}`;
    return row ? toCustomer(row) : undefined;
  }

  recordFailedLogin(
    customerId: number,
    policy: { lockAfter: number; lockMs: number; now: number },
  ): Promise<{ failedLogins: number; lockedUntil: number | null }> {
    return this.#run(async (sql) => {
      validateId(customerId, "customerId");
      validateLockPolicy(policy);
      const { lockAfter, lockMs, now } = policy;
      // One statement, so concurrent failures on several servers each count.
      const [row] = await sql`UPDATE customers SET
          failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= ${now} THEN 1
            ELSE failed_logins + 1 END,
          locked_until = CASE
            WHEN locked_until IS NOT NULL AND locked_until > ${now} THEN locked_until
            WHEN (CASE WHEN locked_until IS NOT NULL AND locked_until <= ${now} THEN 1
              ELSE failed_logins + 1 END) >= ${lockAfter} THEN ${now + lockMs}::bigint
            ELSE NULL END
        WHERE account_id = ${customerId} RETURNING failed_logins, locked_until`;
      if (!row) throw new LedgerError("unknown_customer", `No customer with id ${customerId}`);
      const lockedUntil = row.locked_until === null ? null : Number(row.locked_until);
      return { failedLogins: Number(row.failed_logins), lockedUntil };
    });
  }

  clearFailedLogins(customerId: number): Promise<void> {
    return this.#run(async (sql) => {
      validateId(customerId, "customerId");
      const result = await sql`UPDATE customers SET failed_logins = 0, locked_until = NULL
        WHERE account_id = ${customerId}`;
      if (result.count !== 1) {
        throw new LedgerError("unknown_customer", `No customer with id ${customerId}`);
      }
    });
  }

  addAtm(id: string, wrappedKey: Uint8Array): Promise<void> {
    return this.#run(async (sql) => {
      validateAtmId(id);
      validateWrappedKey(wrappedKey);
      const inserted = await sql`INSERT INTO atms (id, wrapped_key) VALUES (${id}, ${wrappedKey})
        ON CONFLICT (id) DO NOTHING RETURNING id`;
      if (inserted.length === 0) {
        throw new LedgerError("duplicate_atm", `An ATM with id ${quote(id)} already exists`);
      }
    });
  }

  findAtm(id: string): Promise<AtmRecord | undefined> {
    return this.#run(async (sql) => {
      if (typeof id !== "string") return undefined;
      const [row] =
        await sql`SELECT id, wrapped_key, revoked, created_at FROM atms WHERE id = ${id}`;
      return row ? toAtm(row) : undefined;
    });
  }

  revokeAtm(id: string): Promise<boolean> {
    return this.#run(async (sql) => {
      if (typeof id !== "string") return false;
      const result = await sql`UPDATE atms SET revoked = true WHERE id = ${id}`;
      return result.count === 1;
    });
  }

  applyBatch(ops: Operation[]): Promise<OperationResult[]> {
    return this.#run(async () => {
      if (!Array.isArray(ops)) throw new LedgerError("invalid_argument", "Batch must be an array");
      // Every operation is checked before any is applied, so a malformed one rejects the batch.
      ops.forEach(validateOperation);
      if (ops.length === 0) return [];
      return await applyBatchPg(this.#apply, ops);
    });
  }

  balance(customerId: number): Promise<number> {
    return this.#run(async (sql) => {
      validateId(customerId, "customerId");
      const [row] = await sql`SELECT balance_cents FROM accounts
        WHERE id = ${customerId} AND kind = 'customer'`;
      if (!row) throw new LedgerError("unknown_customer", `No customer with id ${customerId}`);
      return Number(row.balance_cents);
    });
  }

  history(customerId: number, limit: number): Promise<HistoryItem[]> {
    return this.#run(async (sql) => {
      validateId(customerId, "customerId");
      validateLimit(limit, HISTORY_ITEMS_LIMIT_MAX, "History limit");
      const rows = await sql`SELECT e.id, e.at, e.kind, e.customer_id, p.amount_cents,
          p.balance_after_cents, owner.name AS owner_name, other.name AS other_name
        FROM postings p JOIN entries e ON e.id = p.entry_id
        JOIN accounts owner ON owner.id = e.customer_id
        LEFT JOIN accounts other ON other.id = e.counterparty_id
        WHERE p.account_id = ${customerId} ORDER BY p.entry_id DESC LIMIT ${limit}`;
      return rows.map((row) => toHistoryItem(row, customerId));
    });
  }

  journalAfter(afterEntryId: number, limit: number, committedBy?: string): Promise<JournalEntry[]> {
    return this.#run(async (sql) => {
      validateJournalQuery(afterEntryId, limit, committedBy);
      const server = committedBy ?? null;
      const rows = await sql`SELECT e.id, e.request_id, e.at, e.kind, e.atm_id, e.amount_cents,
          e.server_id, owner.name AS owner_name, other.name AS other_name, p.balance_after_cents
        FROM entries e JOIN accounts owner ON owner.id = e.customer_id
        LEFT JOIN accounts other ON other.id = e.counterparty_id
        JOIN postings p ON p.entry_id = e.id AND p.account_id = e.customer_id
        WHERE e.id > ${afterEntryId}
          AND (${server}::text IS NULL OR e.server_id = ${server} OR e.server_id IS NULL)
        ORDER BY e.id LIMIT ${limit}`;
      return rows.map(toJournalEntry);
    });
  }

  auditHead(serverId: string): Promise<ChainHead | undefined> {
    return this.#run(async (sql) => {
      if (typeof serverId !== "string") return undefined;
      const [row] = await sql`SELECT server_id, seq, mac FROM audit_heads
        WHERE server_id = ${serverId}`;
      return row ? toChainHead(row) : undefined;
    });
  }

  setAuditHead(head: ChainHead): Promise<void> {
    return this.#run(async (sql) => {
      validateChainHead(head);
      await sql`INSERT INTO audit_heads (server_id, seq, mac)
        VALUES (${head.serverId}, ${head.seq}, ${head.mac})
        ON CONFLICT (server_id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac
        WHERE excluded.seq > audit_heads.seq`;
    });
  }

  claimBankKeyCheck(check: string): Promise<string> {
    return this.#run(async (sql) => {
      validateKeyCheck(check);
      // The table lock makes the first claim win when several servers start together.
      return await sql.begin(async (tx) => {
        await tx`LOCK TABLE bank_key IN EXCLUSIVE MODE`;
        const [row] = await tx`SELECT key_check FROM bank_key`;
        if (row) return String(row.key_check);
        await tx`INSERT INTO bank_key (key_check) VALUES (${check})`;
        return check;
      });
    });
  }

  listCustomers() {
    return this.#run(async (sql) => {
      const rows = await sql`SELECT a.name, a.balance_cents, c.locked_until FROM accounts a
        JOIN customers c ON c.account_id = a.id ORDER BY a.name`;
      return rows.map(toCustomerListing);
    });
  }

  totals(sinceIso: string) {
    return this.#run(async (sql) => {
      const since = new Date(normaliseSince(sinceIso));
      const [row] = await sql`SELECT
          (SELECT COUNT(*) FROM accounts WHERE kind = 'customer') AS customers,
          (SELECT COALESCE(SUM(balance_cents), 0)::bigint FROM accounts WHERE kind = 'customer')
            AS held_cents,
          (SELECT COUNT(*) FROM entries WHERE at >= ${since}) AS entries_since`;
      return {
        customers: Number(row.customers),
        heldCents: Number(row.held_cents),
        entriesSince: Number(row.entries_since),
      };
    });
  }

  checkInvariants(): Promise<{ ok: boolean; problems: string[] }> {
    return this.#run(async (sql) => {
      // One snapshot for every check, so transactions committing meanwhile cannot fake a problem.
      const problems = await sql.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY", async (tx) => {
        const found: string[] = [];
        for (const query of INVARIANT_QUERIES) {
          const rows = await tx.unsafe(query);
          found.push(...rows.map((row) => String(row.problem)));
        }
        return found;
      });
      return { ok: problems.length === 0, problems };
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#end();
    return this.#closing;
  }

  async #end(): Promise<void> {
    // Calls already started finish first. Ending the pool under them would fail them halfway,
    // and the driver opens a fresh connection for a query still queued after end(), which then
    // outlives close() (and crashes the driver if the database is dropped under it).
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    await this.#sql.end();
  }

  /** Runs one call on the pool unless the store is closed, and counts it as in flight. */
  #run<T>(body: (sql: Sql) => Promise<T>): Promise<T> {
    if (this.#closing) {
      return Promise.reject(new LedgerError("closed", "The ledger is closed"));
    }
    const call = body(this.#sql);
    this.#inFlight.add(call);
    const forget = () => this.#inFlight.delete(call);
    call.then(forget, forget);
    return call;
  }
}
