/**
 * The ATM screen's HTTP side: the page, its static files, and a small JSON API (`login`,
 * `action`, `quit`, `state`) over an {@link AtmScreen}.
 *
 * The screen listens on loopback only, yet a web page the same browser opens could still try to
 * use it; so requests must name a loopback `Host` (no DNS rebinding), state-changing requests must
 * come from the screen's own page (`Sec-Fetch-Site`/`Origin`) as JSON, and everything a customer
 * does after login needs the HttpOnly, SameSite=Strict cookie set at login. The page gets a
 * strict content security policy.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { secureHeaders } from "hono/secure-headers";
import { toHex } from "../../lib/bytes.ts";
import type { AtmScreen, ScreenAnswer } from "./atm_screen.ts";
import { WEB_BODY_BYTES_MAX, WEB_COOKIE_NAME, WEB_TOKEN_BYTES } from "./constants.ts";
import { ATM_PAGE, ATM_STATIC } from "./static_assets.ts";

/** What the routes serve. */
export interface AtmWebOptions {
  screen: AtmScreen;
  /** The port the server listens on, once known; for the Host check. */
  port: () => number;
  /** A user name given with `--user`, shown pre-filled. */
  presetUser?: string;
}

/** Only the screen's own files; nothing inline, no frames, no other site. */
const CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  connectSrc: ["'self'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

/** Length of a cookie token in hex; a cookie of any other length was not set here. */
const WEB_TOKEN_CHARS = WEB_TOKEN_BYTES * 2;

async function digest(token: string): Promise<string> {
  const bytes = new TextEncoder().encode(token);
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

function loopbackHostOnly(port: () => number): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header("host")?.toLowerCase() ?? "";
    const names = [`127.0.0.1:${port()}`, `localhost:${port()}`, `[::1]:${port()}`];
    if (!names.includes(host)) return c.text("Unknown host", 421);
    await next();
  };
}

/** Refuses a POST that another site started, or that is not JSON (no plain form posts). */
function ownPageJsonOnly(): MiddlewareHandler {
  return async (c, next) => {
    const site = c.req.header("sec-fetch-site");
    const origin = c.req.header("origin");
    const foreign = site !== undefined
      ? site !== "same-origin"
      : origin !== undefined && origin !== `http://${c.req.header("host")}`;
    if (foreign) return c.json({ ok: false, message: "Cross-site request refused" }, 403);
    if (!(c.req.header("content-type") ?? "").startsWith("application/json")) {
      return c.json({ ok: false, message: "Expected a JSON request" }, 415);
    }
    await next();
  };
}

async function readJson(c: Context): Promise<Record<string, unknown> | null> {
  try {
    const body = await c.req.json();
    return typeof body === "object" && body !== null && !Array.isArray(body) ? body : null;
  } catch {
    return null;
  }
}

/**
 * Builds the ATM screen's routes.
 *
 * @param options The screen and how to check the Host.
 * @returns The Hono app.
 */
export function atmWebApp(options: AtmWebOptions): Hono {
  const { screen } = options;
  /** SHA-256 of the logged-in browser's token; null when nobody is logged in. */
  let tokenHash: string | null = null;
  const app = new Hono();

  app.use("*", loopbackHostOnly(options.port));
  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: CSP,
      xFrameOptions: "DENY",
      strictTransportSecurity: false,
    }),
  );
  app.use("*", async (c, next) => {
    await next();
    c.res.headers.set("Cache-Control", "no-store");
  });
  app.use("/api/*", ownPageJsonOnly());
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: WEB_BODY_BYTES_MAX,
      onError: (c) => c.json({ ok: false, message: "Request too large" }, 413),
    }),
  );

  const signedIn = async (c: Context) => {
    const token = getCookie(c, WEB_COOKIE_NAME);
    if (token === undefined || token.length !== WEB_TOKEN_CHARS || tokenHash === null) return false;
    return await digest(token) === tokenHash;
  };
  const forget = (c: Context) => {
    tokenHash = null;
    deleteCookie(c, WEB_COOKIE_NAME, { path: "/", httpOnly: true, sameSite: "Strict" });
  };
  const answer = (c: Context, result: ScreenAnswer) => {
    if (!result.ok && result.ended) forget(c);
    // A refusal is an answer like any other (the page shows it); HTTP errors are for requests
    // the screen will not take at all.
    return c.json(result);
  };

  app.get("/", (c) => c.html(ATM_PAGE));
  app.get("/static/:name", (c) => {
    const asset = ATM_STATIC.get(c.req.param("name"));
    if (asset === undefined) return c.notFound();
    return c.body(asset.body, 200, { "Content-Type": asset.contentType });
  });

  app.post("/api/state", async (c) => {
    const customer = await signedIn(c) ? screen.customer : null;
    return c.json({ customer, presetUser: options.presetUser ?? null });
  });

  app.post("/api/login", async (c) => {
    const body = await readJson(c);
    if (body === null) return c.json({ ok: false, message: "Expected a JSON object" }, 400);
    // Whoever was logged in is logged out by this login; their cookie stops working.
    tokenHash = null;
    const result = await screen.login(body.user, body.pin);
    if (!result.ok) return answer(c, result);
    const token = crypto.getRandomValues(new Uint8Array(WEB_TOKEN_BYTES));
    const cookie = toHex(token);
    tokenHash = await digest(cookie);
    setCookie(c, WEB_COOKIE_NAME, cookie, { path: "/", httpOnly: true, sameSite: "Strict" });
    return c.json(result);
  });

  app.post("/api/action", async (c) => {
    if (!await signedIn(c)) {
      return c.json({ ok: false, message: "Please log in first.", ended: true }, 401);
    }
    const body = await readJson(c);
    if (body === null) return c.json({ ok: false, message: "Expected a JSON object" }, 400);
    return answer(c, await screen.act(body));
  });

  app.post("/api/quit", async (c) => {
    // Anyone at the screen may end the session, as anyone at an ATM can press Cancel.
    forget(c);
    return c.json(await screen.quit());
  });

  app.notFound((c) => c.text("Not found", 404));
  return app;
}
