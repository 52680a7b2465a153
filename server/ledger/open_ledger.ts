/**
 * Chooses and opens the ledger a `bank` command works on: the SQLite file in the data directory
 * by default, or the PostgreSQL database that `--db postgres://…` names (several bank servers on
 * one ledger). The URL may hold a password; nothing here puts it in a message.
 *
 * @module
 */

import { describeServer } from "./postgres_connect.ts";
import { openPostgresStore } from "./postgres_store.ts";
import { openSqliteStore } from "./sqlite_store.ts";
import { LedgerError, type LedgerStore } from "./store.ts";

/** Where a ledger lives. */
export type LedgerLocation =
  | { kind: "sqlite"; path: string }
  | { kind: "postgres"; url: string };

/** URL schemes `--db` accepts. */
const POSTGRES_SCHEMES = ["postgres:", "postgresql:"];

/**
 * Turns the `--db` flag into a ledger location.
 *
 * @param db The flag's value; undefined for the SQLite default.
 * @param sqlitePath The SQLite file used without `--db`.
 * @returns The location.
 * @throws {LedgerError} "invalid_argument" for a value that is not a PostgreSQL URL; the message
 * names only the scheme, since the value may hold a password.
 */
export function ledgerLocation(db: string | undefined, sqlitePath: string): LedgerLocation {
  if (db === undefined) return { kind: "sqlite", path: sqlitePath };
  const scheme = /^([a-z][a-z0-9+.-]*:)/i.exec(db)?.[1]?.toLowerCase();
  if (scheme === undefined || !POSTGRES_SCHEMES.includes(scheme)) {
    throw new LedgerError(
      "invalid_argument",
      `--db must be a postgres:// URL (leave it out for the SQLite ledger in the data ` +
        `directory): got ${scheme === undefined ? "no URL scheme" : `scheme ${scheme}`}`,
    );
  }
  describeServer(db); // throws for a URL that does not parse
  return { kind: "postgres", url: db };
}

/**
 * Names a ledger for logs and messages, without any password.
 *
 * @param location The ledger.
 * @returns E.g. `SQLite bank-data/ledger.sqlite` or `PostgreSQL 127.0.0.1:5432/bank`.
 */
export function describeLedger(location: LedgerLocation): string {
  return location.kind === "sqlite"
    ? `SQLite ${location.path}`
    : `PostgreSQL ${describeServer(location.url)}`;
}

/**
 * Opens a ledger. A SQLite file is created (or upgraded) on the spot; a PostgreSQL database must
 * already hold the current schema (`bank migrate --db URL`), so a server never starts on a
 * schema it does not know.
 *
 * @param location The ledger.
 * @returns The open store; call close() when done.
 * @throws {LedgerError} "unavailable", "schema_missing", "schema_outdated", "schema_unknown" or
 * "corrupt".
 */
export function openLedger(location: LedgerLocation): Promise<LedgerStore> {
  return location.kind === "sqlite"
    ? openSqliteStore(location.path)
    : openPostgresStore(location.url);
}
