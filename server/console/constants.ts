/**
 * Every limit and default of the operator console, in one place. Each one says why it has the
 * value it has; `bank serve` exposes the address and port as flags.
 *
 * @module
 */

/** Port the console listens on when `--console-port` is not given; 0 turns the console off. */
export const CONSOLE_PORT_DEFAULT = 4080;

/** Address the console listens on by default: loopback, so it is never exposed by accident. */
export const CONSOLE_HOST_DEFAULT = "127.0.0.1";

/** Name of the session cookie. HttpOnly and SameSite=Strict; see `console_sessions.ts`. */
export const SESSION_COOKIE_NAME = "bank_console_session";

/** Random bytes in a session token: 256 bits, beyond any guessing. */
export const SESSION_TOKEN_BYTES = 32;

/**
 * Longest cookie value looked up as a session token. A real token is 43 base64url characters;
 * anything much longer is refused before it is hashed.
 */
export const SESSION_TOKEN_CHARS_MAX = 128;

/** A console session ends this long after sign-in, however active: one working day. */
export const SESSION_LIFETIME_MS = 8 * 60 * 60_000;

/** A console session unused for this long ends, so a forgotten browser tab does not stay in. */
export const SESSION_IDLE_MS = 30 * 60_000;

/**
 * Console sessions open at once. There are only a few operators; the cap keeps a script that
 * signs in over and over from growing the table. The oldest session goes first.
 */
export const SESSIONS_MAX = 32;

/**
 * Failed sign-ins allowed per client address within {@link LOGIN_FAILURE_WINDOW_MS}. After that
 * every attempt is refused without checking the password until the window has passed.
 */
export const LOGIN_FAILURES_PER_WINDOW_MAX = 5;

/** Window over which failed sign-ins are counted: long enough to make guessing hopeless. */
export const LOGIN_FAILURE_WINDOW_MS = 5 * 60_000;

/** Client addresses whose failures are remembered at once; oldest forgotten first. */
export const LOGIN_CLIENTS_TRACKED_MAX = 1_024;

/** Password checks running at once: PBKDF2 is slow on purpose, so floods queue at the door. */
export const PASSWORD_CHECKS_CONCURRENT_MAX = 2;

/** Largest sign-in form body accepted; a password form is a few hundred bytes. */
export const LOGIN_FORM_BYTES_MAX = 4 * 1024;

/**
 * How often the live stream sends sessions, totals and the chart. Once a second: the chart has
 * one point per second and new activity is pushed at once anyway.
 */
export const STREAM_TICK_MS = 1_000;

/** Seconds of transaction history the chart shows: five minutes. */
export const CHART_SECONDS = 300;

/** Recent activity events kept for a page that opens now; older ones only live in the audit log. */
export const FEED_EVENTS_MAX = 100;

/** Recent alerts (failed logins, lockouts) kept for a page that opens now. */
export const ALERTS_MAX = 50;

/** Live streams open at once; each holds a connection and costs one snapshot per tick. */
export const STREAMS_MAX = 16;

/**
 * Events queued for one stream that cannot keep up. Past this the oldest are dropped and the page
 * is told how many; the bank never waits for a browser.
 */
export const STREAM_QUEUE_EVENTS_MAX = 500;

/** Longest text shown for one field of an activity event; longer values are cut. */
export const FEED_FIELD_CHARS_MAX = 120;

/** Open sessions sent to the page per tick; more are counted but not listed. */
export const SESSIONS_LISTED_MAX = 500;

/** Transactions shown per customer on the customer page. */
export const CUSTOMER_HISTORY_ITEMS = 10;

/** Customers listed on the customer page; a console is not a report generator. */
export const CUSTOMERS_LISTED_MAX = 1_000;
