/**
 * Connecting to PostgreSQL with the `postgres` package, configured the way the ledger needs:
 * bigint columns come back as exact JS numbers (or the read fails), server notices are dropped
 * instead of logged, and connection failures become a LedgerError that names the server but never
 * the password.
 *
 * @module
 */

import postgres from "postgres";
import { LedgerError } from "./store.ts";

/** A connection pool. */
export type Sql = postgres.Sql<{ bigint: number }>;

/** A transaction on one pooled connection. */
export type Tx = postgres.TransactionSql<{ bigint: number }>;

/**
 * Connections one store keeps to PostgreSQL. applyBatch() holds one for its transaction, so this
 * bounds the batches one bank server has in flight; the rest queue in the pool. Several servers
 * share one database, whose default limit is 100 connections.
 */
export const POOL_CONNECTIONS_MAX = 10;

/** Seconds to wait for a connection before giving up; the bank fails fast at start-up. */
const CONNECT_TIMEOUT_S = 5;

/** Seconds an idle pooled connection is kept before it is closed. */
const IDLE_TIMEOUT_S = 30;

/** PostgreSQL's type id of int8 (bigint). */
const INT8_OID = 20;

/**
 * Opens a pool (connections are made lazily, on first use).
 *
 * @param url A `postgres://` URL.
 * @param max Most connections.
 * @returns The pool; call `end()` when done.
 * @throws {LedgerError} "invalid_argument" for a URL that is not a PostgreSQL URL.
 */
export function connectPostgres(url: string, max = POOL_CONNECTIONS_MAX): Sql {
  describeServer(url);
  return postgres(url, {
    max,
    connect_timeout: CONNECT_TIMEOUT_S,
    idle_timeout: IDLE_TIMEOUT_S,
    onnotice: () => {},
    // never from the environment: the driver's debug hook would see every query's parameters
    debug: false,
    types: {
      bigint: {
        to: INT8_OID,
        from: [INT8_OID],
        serialize: (value: number) => String(value),
        parse: parseInt8,
      },
    },
  });
}

/**
 * Names the server of a URL for messages, without user or password.
 *
 * @param url A `postgres://` URL.
 * @returns E.g. `127.0.0.1:5432/bank`.
 * @throws {LedgerError} "invalid_argument" when it is not a PostgreSQL URL.
 */
export function describeServer(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new LedgerError("invalid_argument", "PostgreSQL URL is not a URL");
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new LedgerError(
      "invalid_argument",
      `PostgreSQL URL must start with postgres://: got ${parsed.protocol}`,
    );
  }
  return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`;
}

/**
 * Wraps a failure to reach the database.
 *
 * @param url The URL that was used.
 * @param cause The driver's error.
 * @returns A LedgerError "unavailable" naming the server, never the password.
 */
export function unavailable(url: string, cause: unknown): LedgerError {
  const code = (cause as { code?: unknown })?.code;
  const detail = typeof code === "string" ? code : "connection failed";
  return new LedgerError(
    "unavailable",
    `Cannot reach PostgreSQL at ${describeServer(url)}: ${detail}`,
    { cause },
  );
}

/**
 * Tells whether an error is a transaction that PostgreSQL aborted and that is safe to run again:
 * a serialization failure or a deadlock it broke.
 *
 * @param error Anything thrown.
 * @returns True for SQLSTATE 40001 and 40P01.
 */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === "40001" || code === "40P01";
}

function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new LedgerError("corrupt", `A bigint column holds ${text}, beyond exact JS numbers`);
  }
  return value;
}
