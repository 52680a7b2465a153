/**
 * Opening the SQLite ledger file: durability settings, creating the schema on an empty file, and
 * refusing a file that is not a ledger or has a schema version this code does not know.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { BALANCE_CENTS_MAX } from "../../lib/amount.ts";
import { HOUSE_CASH, HOUSE_OPENING, SCHEMA_VERSION } from "./rules.ts";
import { LedgerError } from "./store.ts";

/**
 * How long a writer waits for another process holding the write lock (e.g. `bank customer add`
 * while `bank serve` runs) before giving up; transactions are short, so this is generous.
 */
const BUSY_TIMEOUT_MS = 5_000;

/** File mode of a new ledger: it holds PIN hashes and wrapped ATM keys, so owner-only. */
const LEDGER_FILE_MODE = 0o600;

const SCHEMA_V1 = `
CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT;
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('customer', 'house')),
  balance_cents INTEGER,
  CHECK ((kind = 'customer') = (balance_cents IS NOT NULL)),
  CHECK (balance_cents IS NULL OR balance_cents BETWEEN 0 AND ${BALANCE_CENTS_MAX})
) STRICT;
CREATE TABLE customers (
  account_id INTEGER PRIMARY KEY REFERENCES accounts (id),
  pin_salt BLOB NOT NULL,
  pin_hash BLOB NOT NULL,
  pin_iterations INTEGER NOT NULL,
  failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
  locked_until INTEGER,
  created_at TEXT NOT NULL
) STRICT;
CREATE TABLE entries (
  id INTEGER PRIMARY KEY,
  request_id TEXT UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('opening', 'deposit', 'withdraw', 'transfer')),
  atm_id TEXT,
  customer_id INTEGER NOT NULL REFERENCES accounts (id),
  counterparty_id INTEGER REFERENCES accounts (id),
  amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
  at TEXT NOT NULL
) STRICT;
CREATE INDEX entries_by_time ON entries (at);
CREATE TABLE postings (
  entry_id INTEGER NOT NULL REFERENCES entries (id),
  account_id INTEGER NOT NULL REFERENCES accounts (id),
  amount_cents INTEGER NOT NULL CHECK (amount_cents <> 0),
  balance_after_cents INTEGER,
  PRIMARY KEY (entry_id, account_id)
) STRICT;
CREATE INDEX postings_by_account ON postings (account_id, entry_id);
CREATE TABLE requests (
  request_id TEXT PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES accounts (id),
  atm_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  amount_cents INTEGER NOT NULL,
  to_name TEXT,
  entry_id INTEGER UNIQUE REFERENCES entries (id),
  balance_cents INTEGER,
  reason TEXT,
  CHECK ((entry_id IS NULL) <> (reason IS NULL))
) STRICT;
CREATE TABLE atms (
  id TEXT PRIMARY KEY,
  wrapped_key BLOB NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
  created_at TEXT NOT NULL
) STRICT;
CREATE TABLE audit_heads (
  server_id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  mac TEXT NOT NULL
) STRICT;
INSERT INTO accounts (name, kind) VALUES ('${HOUSE_CASH}', 'house'), ('${HOUSE_OPENING}', 'house');
INSERT INTO schema_version (version) VALUES (1);
`;

/** Version 1 to 2: the server that committed each entry, and the bank key check. */
const UPGRADE_TO_V2 = `
ALTER TABLE entries ADD COLUMN server_id TEXT;
CREATE TABLE bank_key (key_check TEXT NOT NULL) STRICT;
UPDATE schema_version SET version = 2;
`;

/**
 * Opens (creating if needed) the ledger file with WAL and synchronous=FULL, so a committed
 * transaction survives a power cut.
 *
 * @param path The file.
 * @returns The open database, schema checked.
 * @throws {LedgerError} "corrupt" for a file that is not a ledger, "schema_unknown" for a
 * version this code does not know.
 */
export async function openLedgerFile(path: string): Promise<DatabaseSync> {
  await createOwnerOnly(path);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw (await unwritable(path)) ?? notALedger(path, error);
  }
  try {
    configure(db, path);
    ensureSchema(db, path);
    return db;
  } catch (error) {
    db.close();
    throw (await unwritable(path)) ?? error;
  }
}

/**
 * SQLite reports a file it cannot write (a read-only file system, no permission) as one it
 * cannot open; this finds out which, so the operator is told the real problem.
 *
 * @returns The error to report when the file cannot be opened for writing, else null.
 */
async function unwritable(path: string): Promise<LedgerError | null> {
  try {
    const file = await Deno.open(path, { read: true, write: true });
    file.close();
    return null;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return new LedgerError("unavailable", `Cannot open the ledger ${path} for writing: ${detail}`, {
      cause: error,
    });
  }
}

async function createOwnerOnly(path: string): Promise<void> {
  try {
    const file = await Deno.open(path, { write: true, createNew: true, mode: LEDGER_FILE_MODE });
    file.close();
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
}

function configure(db: DatabaseSync, path: string): void {
  let mode: unknown;
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    mode = (db.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode?: string })
      ?.journal_mode;
    db.exec("PRAGMA synchronous = FULL");
    db.exec("PRAGMA foreign_keys = ON");
  } catch (error) {
    throw notALedger(path, error);
  }
  if (mode !== "wal") {
    throw new LedgerError("corrupt", `Ledger ${path} could not switch to WAL mode: got ${mode}`);
  }
}

function ensureSchema(db: DatabaseSync, path: string): void {
  if (listTables(db, path).length === 0) inWriteTransaction(db, createSchema);
  const tables = listTables(db, path);
  if (!tables.includes("schema_version")) {
    throw new LedgerError("corrupt", `File ${path} is a SQLite database but not a ledger`);
  }
  // One bank server owns a SQLite ledger, so an older schema is upgraded in place.
  if (readVersion(db) === 1) inWriteTransaction(db, upgradeToV2);
  const version = readVersion(db);
  if (version !== SCHEMA_VERSION) {
    throw new LedgerError(
      "schema_unknown",
      `Ledger ${path} has schema version ${String(version)}; this bank knows only ` +
        `version ${SCHEMA_VERSION}`,
    );
  }
}

function listTables(db: DatabaseSync, path: string): string[] {
  try {
    const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    return rows.map((row) => String(row.name));
  } catch (error) {
    throw notALedger(path, error);
  }
}

function readVersion(db: DatabaseSync): unknown {
  const rows = db.prepare("SELECT version FROM schema_version").all();
  return rows.length === 1 ? rows[0].version : undefined;
}

function inWriteTransaction(db: DatabaseSync, body: (db: DatabaseSync) => void): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    body(db);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

function createSchema(db: DatabaseSync): void {
  // Another process may have created the schema while this one waited for the write lock.
  const row = db.prepare("SELECT COUNT(*) AS n FROM sqlite_master").get();
  if (row?.n === 0) db.exec(SCHEMA_V1);
}

function upgradeToV2(db: DatabaseSync): void {
  // Another process may have upgraded while this one waited for the write lock.
  if (readVersion(db) === 1) db.exec(UPGRADE_TO_V2);
}

function notALedger(path: string, cause: unknown): LedgerError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new LedgerError("corrupt", `File ${path} is not a ledger database: ${detail}`, { cause });
}
