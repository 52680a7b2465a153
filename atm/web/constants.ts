/**
 * Limits and defaults of the ATM screen (`atm --web`), in one place.
 *
 * @module
 */

/** Port the ATM screen listens on when `--web-port` is not given; 0 picks a free one. */
export const ATM_WEB_PORT_DEFAULT = 4090;

/** The ATM screen listens on loopback only: it is the ATM's own display, not a website. */
export const ATM_WEB_HOST = "127.0.0.1";

/**
 * A customer who does nothing for this long is logged out, as a real ATM hands back the card
 * after a while, so a walked-away customer's session does not stay open.
 */
export const CUSTOMER_IDLE_MS = 2 * 60_000;

/** Largest request body the screen accepts; its JSON requests are a few dozen bytes. */
export const WEB_BODY_BYTES_MAX = 2 * 1024;

/** Name of the cookie that ties the browser to the logged-in customer. */
export const WEB_COOKIE_NAME = "atm_screen_session";

/** Random bytes in that cookie's token: 256 bits. */
export const WEB_TOKEN_BYTES = 32;
