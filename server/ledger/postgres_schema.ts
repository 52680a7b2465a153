/**
 * The PostgreSQL ledger schema: creating it (migratePostgres), and checking on open that a
 * database holds a ledger of a version this code knows. Tables live in the connection's current
 * schema (normally `public`).
 *
 * @module
 */

import { BALANCE_CENTS_MAX } from "../../lib/amount.ts";
import {
  connectPostgres,
  describeServer,
  type Sql,
  type Tx,
  unavailable,
} from "./postgres_connect.ts";
import { HOUSE_CASH, HOUSE_OPENING, SCHEMA_VERSION } from "./rules.ts";
import { LedgerError } from "./store.ts";

/**
 * Advisory lock key taken while migrating, so bank servers starting together do not race to
 * create the same tables. Any constant works; this one spells "ledger" in ASCII.
 */
const MIGRATION_LOCK_KEY = 0x6c6564676572;

const SCHEMA_V1 = `
CREATE TABLE schema_version (version integer NOT NULL);
CREATE TABLE accounts (
  id bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  kind text NOT NULL CHECK (kind IN ('customer', 'house')),
  balance_cents bigint,
  CHECK ((kind = 'customer') = (balance_cents IS NOT NULL)),
  CHECK (balance_cents IS NULL OR balance_cents BETWEEN 0 AND ${BALANCE_CENTS_MAX})
);
CREATE TABLE customers (
  account_id bigint PRIMARY KEY REFERENCES accounts (id),
  pin_salt bytea NOT NULL,
  pin_hash bytea NOT NULL,
  pin_iterations integer NOT NULL,
  failed_logins integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
  locked_until bigint,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE entries (
  id bigserial PRIMARY KEY,
  request_id text UNIQUE,
  kind text NOT NULL CHECK (kind IN ('opening', 'deposit', 'withdraw', 'transfer')),
  atm_id text,
  customer_id bigint NOT NULL REFERENCES accounts (id),
  counterparty_id bigint REFERENCES accounts (id),
  amount_cents bigint NOT NULL CHECK (amount_cents > 0),
  at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX entries_by_time ON entries (at);
CREATE TABLE postings (
  entry_id bigint NOT NULL REFERENCES entries (id),
  account_id bigint NOT NULL REFERENCES accounts (id),
  amount_cents bigint NOT NULL CHECK (amount_cents <> 0),
  balance_after_cents bigint,
  PRIMARY KEY (entry_id, account_id)
);
CREATE INDEX postings_by_account ON postings (account_id, entry_id);
CREATE TABLE requests (
  request_id text PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES accounts (id),
  atm_id text NOT NULL,
  kind text NOT NULL,
  amount_cents bigint NOT NULL,
  to_name text,
  entry_id bigint UNIQUE REFERENCES entries (id),
  balance_cents bigint,
  reason text,
  CHECK ((entry_id IS NULL) <> (reason IS NULL))
);
CREATE TABLE atms (
  id text PRIMARY KEY,
  wrapped_key bytea NOT NULL,
  revoked boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE audit_heads (
  server_id text PRIMARY KEY,
  seq bigint NOT NULL,
  mac text NOT NULL
);
INSERT INTO accounts (name, kind) VALUES ('${HOUSE_CASH}', 'house'), ('${HOUSE_OPENING}', 'house');
INSERT INTO schema_version (version) VALUES (1);
`;

/** Version 1 to 2: the server that committed each entry, and the bank key check. */
const UPGRADE_TO_V2 = `
ALTER TABLE entries ADD COLUMN server_id text;
CREATE TABLE bank_key (key_check text NOT NULL);
UPDATE schema_version SET version = 2;
`;

/** Each step upgrades from the version before it; index i takes version i + 1 to i + 2. */
const UPGRADES = [UPGRADE_TO_V2];

/** What a database holds, as far as the ledger is concerned. */
type SchemaState =
  | { kind: "empty" }
  | { kind: "foreign" }
  | { kind: "ledger"; version: number | undefined };

/** What {@link migratePostgres} did. */
export interface MigrationResult {
  /** The schema version now in place. */
  version: number;
  /** The version found before; 0 for an empty database. */
  fromVersion: number;
  /** True when this call created the schema. */
  created: boolean;
}

/**
 * Creates the ledger schema in an empty database, upgrades an older one, or checks that an
 * existing one is current, all in one transaction. Safe to run from several servers at once.
 *
 * @param url A `postgres://` URL of the database.
 * @returns What was found and what is now in place.
 * @throws {LedgerError} "corrupt" for a database holding other tables, "schema_unknown" for a
 * version this code does not know, "unavailable" when the server cannot be reached.
 */
export async function migratePostgres(url: string): Promise<MigrationResult> {
  const sql = connectPostgres(url, 1);
  try {
    return await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`;
      const state = await readSchemaState(tx);
      let version = 0;
      if (state.kind === "empty") {
        await tx.unsafe(SCHEMA_V1);
        version = 1;
      } else if (state.kind === "ledger" && isUpgradable(state.version)) {
        version = state.version;
      } else {
        checkState(state, url);
        version = SCHEMA_VERSION;
      }
      const fromVersion = state.kind === "empty" ? 0 : version;
      for (; version < SCHEMA_VERSION; version++) await tx.unsafe(UPGRADES[version - 1]);
      return { version, fromVersion, created: state.kind === "empty" };
    });
  } catch (error) {
    if (error instanceof LedgerError) throw error;
    throw unavailable(url, error);
  } finally {
    await sql.end();
  }
}

/**
 * Checks that the database behind a pool holds a ledger this code knows.
 *
 * @param sql The pool.
 * @param url Its URL, for messages.
 * @throws {LedgerError} "schema_missing", "schema_unknown" or "corrupt".
 */
export async function checkPostgresSchema(sql: Sql, url: string): Promise<void> {
  const state = await readSchemaState(sql);
  if (state.kind === "empty") {
    throw new LedgerError(
      "schema_missing",
      `Database ${describeServer(url)} has no ledger yet: run \`bank migrate --db URL\` first`,
    );
  }
  if (state.kind === "ledger" && isUpgradable(state.version)) {
    throw new LedgerError(
      "schema_outdated",
      `Database ${describeServer(url)} has ledger schema version ${state.version}; run ` +
        `\`bank migrate --db URL\` to upgrade it to version ${SCHEMA_VERSION}`,
    );
  }
  checkState(state, url);
}

function isUpgradable(version: number | undefined): version is number {
  return version !== undefined && Number.isInteger(version) && version >= 1 &&
    version < SCHEMA_VERSION;
}

function checkState(state: SchemaState, url: string): void {
  if (state.kind === "foreign") {
    throw new LedgerError(
      "corrupt",
      `Database ${describeServer(url)} holds tables but no ledger (no schema_version table)`,
    );
  }
  if (state.kind === "ledger" && state.version !== SCHEMA_VERSION) {
    throw new LedgerError(
      "schema_unknown",
      `Database ${describeServer(url)} has ledger schema version ${String(state.version)}; ` +
        `this bank knows only version ${SCHEMA_VERSION}`,
    );
  }
}

async function readSchemaState(sql: Sql | Tx): Promise<SchemaState> {
  const [{ tables, has_version }] = await sql`
    SELECT COUNT(*) AS tables, COALESCE(BOOL_OR(tablename = 'schema_version'), false) AS has_version
    FROM pg_tables WHERE schemaname = current_schema()`;
  if (Number(tables) === 0) return { kind: "empty" };
  if (!has_version) return { kind: "foreign" };
  const rows = await sql`SELECT version FROM schema_version`;
  const version = rows.length === 1 ? Number(rows[0].version) : undefined;
  return { kind: "ledger", version };
}
