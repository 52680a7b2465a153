/**
 * Every limit and default of the bank server, in one place. Each one has a flag on `bank serve`
 * where an operator may need to change it; the values here are the documented defaults.
 *
 * @module
 */

/** TCP port ATMs connect to when `--port` is not given. */
export const BANK_PORT_DEFAULT = 4000;

/** Address the bank listens on by default: loopback, so nothing is exposed by accident. */
export const BANK_HOST_DEFAULT = "127.0.0.1";

/** Data directory used when `--data` is not given. */
export const DATA_DIR_DEFAULT = "./bank-data";

/**
 * Time an ATM has to finish the handshake. Long enough for a slow link, short enough that
 * connections which never finish cannot pile up.
 */
export const HANDSHAKE_TIMEOUT_MS_DEFAULT = 5_000;

/** An authenticated session with no request for this long is closed. */
export const IDLE_TIMEOUT_MS_DEFAULT = 5 * 60_000;

/**
 * Open connections accepted at once; further connections are closed at once. Sized for the
 * 10,000 idle sessions the benchmark holds, with room for handshakes in progress.
 */
export const CONNECTIONS_MAX_DEFAULT = 12_000;

/**
 * File descriptors kept free of ATM connections once the process ran out of them: the ledger, its
 * WAL, the audit log and its next file, and the console need some. When `accept` first fails for
 * want of a descriptor (the open-files limit is below `--connections-max`), the connection limit
 * is lowered to the connections open then minus this.
 */
export const FILE_DESCRIPTORS_RESERVED = 128;

/**
 * Pause of the accept loop after `accept` itself failed (out of file descriptors, out of memory):
 * long enough not to spin, short enough that service resumes as soon as connections close.
 */
export const ACCEPT_ERROR_PAUSE_MS = 100;

/**
 * An open session checks at most this often, before it answers a request, that its ATM has not
 * been revoked meanwhile (`bank atm revoke` runs in another process): revocation ends the
 * sessions already open within this time, at the cost of one ledger lookup per interval.
 */
export const ATM_REVOCATION_CHECK_MS = 1_000;

/** Largest frame body the bank reads from an ATM; requests are small JSON objects. */
export const BANK_FRAME_BYTES_MAX_DEFAULT = 16 * 1024;

/** Wrong PINs in a row that lock an account. */
export const LOGIN_FAILURES_MAX = 5;

/** How long an account stays locked after too many wrong PINs, unless `--lockout-minutes`. */
export const LOCKOUT_MS_DEFAULT = 15 * 60_000;

/**
 * PIN checks running at once. PBKDF2 is deliberately slow; without this bound a flood of logins
 * would starve every other session of CPU.
 */
export const PIN_CHECKS_CONCURRENT_MAX = 4;

/** Customers and ATMs created by `bank serve --demo`. */
export const DEMO_CUSTOMERS = [
  { name: "alice", pin: "1111", openingCents: 100_000 },
  { name: "bob", pin: "2222", openingCents: 50_000 },
  { name: "carol", pin: "3333", openingCents: 25_000 },
] as const;

/** ATM ids created by `bank serve --demo`. */
export const DEMO_ATM_IDS = ["atm-1", "atm-2", "atm-3"] as const;
