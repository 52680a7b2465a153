/**
 * Keeps two bank servers from running under one server id on a shared ledger. The id keys a
 * server's audit chain head and the entries it reconciles, so two servers sharing it would
 * overwrite each other's head and record each other's entries. Each server holds a session-level
 * advisory lock on its id for as long as it runs, on a connection of its own; a crash closes the
 * connection and so releases the lock.
 *
 * @module
 */

import postgres from "postgres";
import { unavailable } from "./postgres_connect.ts";
import { validateServerId } from "./rules.ts";
import { LedgerError } from "./store.ts";

/** First key of the advisory lock ("bank" in ASCII); the second is a hash of the server id. */
const SERVER_LOCK_CLASS = 0x62616e6b;

/** Seconds to wait for the connection, as for the ledger's own pool. */
const CONNECT_TIMEOUT_S = 5;

/** A held server id. */
export interface ServerIdLock {
  /** Releases the id (closes the lock's connection). */
  release(): Promise<void>;
}

/**
 * Takes the server id on the database, or fails at once if a running server holds it.
 *
 * @param url The shared ledger's `postgres://` URL.
 * @param serverId This server's id.
 * @returns The lock; release it when the server stops.
 * @throws {LedgerError} "server_id_taken" when another server runs under the id, "unavailable"
 * when the database cannot be reached.
 */
export async function lockServerId(url: string, serverId: string): Promise<ServerIdLock> {
  validateServerId(serverId);
  // One connection that is never recycled: closing it would drop the lock.
  const sql = postgres(url, {
    max: 1,
    connect_timeout: CONNECT_TIMEOUT_S,
    idle_timeout: 0,
    max_lifetime: 0,
    debug: false,
    onnotice: () => {},
  });
  let locked: boolean;
  try {
    const [row] = await sql`SELECT pg_try_advisory_lock(${SERVER_LOCK_CLASS}::int4,
      hashtext(${serverId})) AS locked`;
    locked = row.locked === true;
  } catch (error) {
    await sql.end({ timeout: 0 });
    throw unavailable(url, error);
  }
  if (!locked) {
    await sql.end({ timeout: 0 });
    throw new LedgerError(
      "server_id_taken",
      `Another bank server runs with server id ${JSON.stringify(serverId)} on this ledger; ` +
        "give each server its own --server-id",
    );
  }
  return { release: () => sql.end() };
}
