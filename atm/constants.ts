/**
 * Every limit, default and exit status of the `atm` command, in one place.
 *
 * @module
 */

/** Version printed by `atm --version`. */
export const ATM_VERSION = "0.1.0";

/** Where the bank listens when neither `--server` nor the credential names a server. */
export const BANK_SERVER_DEFAULT = "127.0.0.1:4000";

/**
 * How many times one request is tried before the ATM gives up on the bank. Each try walks the
 * whole server list once, so a customer waits for at most this many rounds of failover.
 */
export const REQUEST_ATTEMPTS_MAX = 4;

/** Pause after the first failed try; it doubles after each further failure. */
export const RETRY_BACKOFF_MS_INITIAL = 250;

/** Longest pause between tries, so the doubling stays within what a customer will wait. */
export const RETRY_BACKOFF_MS_MAX = 2_000;

/**
 * Time a TCP connect may take before the next server is tried. A bank on the same network
 * answers in milliseconds; a silent host must not hold the customer for long.
 */
export const CONNECT_TIMEOUT_MS = 3_000;

/** Time the handshake may take once connected; the bank allows 5 s on its side. */
export const HANDSHAKE_TIMEOUT_MS = 5_000;

/**
 * Time to wait for the bank's answer before the connection counts as dropped and the request is
 * resent under the same id. Logins are slow on purpose (PBKDF2 behind a small semaphore), so
 * this is generous.
 */
export const RESPONSE_TIMEOUT_MS = 15_000;

/** Wrong logins one interactive session allows before the ATM ends it. */
export const LOGIN_ATTEMPTS_MAX = 3;

/**
 * Longest line read from stdin (a PIN, a name, an amount or a menu choice). Longer lines are
 * refused instead of being sent anywhere.
 */
export const INPUT_CHARS_MAX = 256;

/** Longest bank refusal message shown; the bank's texts are one sentence. */
export const BANK_MESSAGE_CHARS_MAX = 300;

/** Exit status when the command did what was asked. */
export const EXIT_OK = 0;
/** Exit status for an unexpected failure inside the ATM or a bank answer it cannot read. */
export const EXIT_FAILURE = 1;
/** Exit status for a bad flag, command, argument or amount: nothing was sent to the bank. */
export const EXIT_USAGE = 2;
/** Exit status when the bank answered and refused (wrong PIN, insufficient funds, ...). */
export const EXIT_REFUSED = 3;
/** Exit status when no bank server could be reached within the retry budget. */
export const EXIT_UNREACHABLE = 4;
/** Exit status when the ATM credential file is missing, unreadable or unsafe. */
export const EXIT_CREDENTIAL = 5;
