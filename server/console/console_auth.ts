/**
 * Sign-in, sign-out and the session check of the operator console.
 *
 * The session token lives in an HttpOnly, SameSite=Strict cookie: page scripts cannot read it and
 * the browser never sends it with a request started by another site, which is what protects the
 * console's forms and streams from cross-site requests. State-changing requests (sign-in and
 * sign-out) also refuse an `Origin` other than the console's own.
 *
 * Every sign-in attempt, good or bad, goes to the audit log; the password never does.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Bank } from "../bank.ts";
import type { Logger } from "../logger.ts";
import { Semaphore } from "../semaphore.ts";
import type { OperatorSession, SessionTable } from "./console_sessions.ts";
import {
  LOGIN_FORM_BYTES_MAX,
  PASSWORD_CHECKS_CONCURRENT_MAX,
  SESSION_COOKIE_NAME,
  SESSION_LIFETIME_MS,
} from "./constants.ts";
import type { LoginLimiter } from "./login_limiter.ts";
import { OperatorPasswordError, verifyOperatorPassword } from "./operator_password.ts";

/** Hono environment of the console: Deno's connection info, and the signed-in session. */
export type ConsoleEnv = {
  Bindings: Deno.ServeHandlerInfo<Deno.NetAddr>;
  Variables: { operator: OperatorSession };
};

/** What the sign-in routes need. */
export interface AuthOptions {
  bank: Bank;
  dataDir: string;
  logger: Logger;
  sessions: SessionTable;
  limiter: LoginLimiter;
  /** Renders the sign-in page with an optional message. */
  loginPage: (message?: string) => string;
}

/** Fixed messages of the sign-in page; none says more than the operator needs. */
const LOGIN_MESSAGES = {
  wrong: "Wrong password.",
  limited: "Too many failed sign-ins. Wait a few minutes, then try again.",
  unavailable: "The console cannot check passwords right now. See the bank's log.",
  tooLarge: "The sign-in form was too large.",
} as const;

/**
 * The address of the client, for rate limiting and the audit record.
 *
 * @param c The request context.
 * @returns The remote IP address.
 */
export function clientAddress(c: Context<ConsoleEnv>): string {
  return c.env?.remoteAddr?.hostname ?? "unknown";
}

/**
 * Refuses a request without a live session: pages redirect to the sign-in page, API and stream
 * requests get 401. On success the session is in `c.get("operator")`.
 *
 * @param sessions The session table.
 * @param kind "page" to redirect, "api" to answer 401.
 * @returns The middleware.
 */
export function requireSession(
  sessions: SessionTable,
  kind: "page" | "api",
): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const session = await sessions.touch(getCookie(c, SESSION_COOKIE_NAME));
    if (session === undefined) {
      return kind === "page"
        ? c.redirect("/login", 303)
        : c.json({ error: "not_signed_in", message: "Sign in first" }, 401);
    }
    c.set("operator", session);
    await next();
  };
}

/**
 * Refuses a state-changing request that another site started. Browsers say where a request comes
 * from in `Sec-Fetch-Site`, whatever the referrer policy; older ones only in `Origin`, which the
 * console's `no-referrer` policy turns into "null" (refused too). A request with neither comes
 * from a non-browser client, which has no operator cookie to abuse.
 *
 * @returns The middleware.
 */
export function sameOriginOnly(): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const site = c.req.header("sec-fetch-site");
    const origin = c.req.header("origin");
    const refused = site !== undefined
      ? site !== "same-origin"
      : origin !== undefined && origin !== `http://${c.req.header("host")}`;
    if (refused) return c.text("Cross-site request refused", 403);
    await next();
  };
}

/**
 * The routes `GET /login`, `POST /login` and `POST /logout`.
 *
 * @param options What the routes need.
 * @returns A Hono app to mount at `/`.
 */
export function authRoutes(options: AuthOptions): Hono<ConsoleEnv> {
  const { bank, sessions, loginPage } = options;
  const checks = new Semaphore(PASSWORD_CHECKS_CONCURRENT_MAX);
  const app = new Hono<ConsoleEnv>();

  app.get("/login", (c) => c.html(loginPage()));

  app.post(
    "/login",
    sameOriginOnly(),
    bodyLimit({
      maxSize: LOGIN_FORM_BYTES_MAX,
      onError: (c) => c.html(loginPage(LOGIN_MESSAGES.tooLarge), 413),
    }),
    async (c) => {
      const client = clientAddress(c);
      const permit = options.limiter.check(client);
      if (!permit.allowed) {
        if (permit.firstRefusal) {
          bank.record({ type: "operator_login_failed", client, reason: "rate_limited" });
          await flushed(options);
          options.logger.warn("console", "login_rate_limited", { client });
        }
        c.header("Retry-After", String(Math.ceil(permit.retryAfterMs / 1000)));
        return c.html(loginPage(LOGIN_MESSAGES.limited), 429);
      }
      const form = await c.req.parseBody();
      const password = typeof form.password === "string" ? form.password : "";
      return await checks.run(() => signIn(c, options, { client, password }));
    },
  );

  app.post("/logout", sameOriginOnly(), async (c) => {
    const ended = await sessions.delete(getCookie(c, SESSION_COOKIE_NAME));
    if (ended) {
      bank.record({ type: "operator_logout", client: clientAddress(c), session: ended.id });
      await flushed(options);
    }
    deleteCookie(c, SESSION_COOKIE_NAME, { path: "/", httpOnly: true, sameSite: "Strict" });
    return c.redirect("/login", 303);
  });

  return app;
}

async function signIn(
  c: Context<ConsoleEnv>,
  options: AuthOptions,
  attempt: { client: string; password: string },
): Promise<Response> {
  const { bank, logger, loginPage } = options;
  const { client } = attempt;
  let check;
  try {
    check = await verifyOperatorPassword(options.dataDir, attempt.password);
  } catch (error) {
    if (!(error instanceof OperatorPasswordError)) throw error;
    bank.record({ type: "operator_login_failed", client, reason: "password_file" });
    await flushed(options);
    logger.warn("console", "password_file_refused", { code: error.code, error: error.message });
    return c.html(loginPage(LOGIN_MESSAGES.unavailable), 503);
  }
  if (!check.ok) {
    options.limiter.fail(client);
    bank.record({ type: "operator_login_failed", client, reason: "wrong_password" });
    await flushed(options);
    logger.warn("console", "login_failed", { client });
    return c.html(loginPage(LOGIN_MESSAGES.wrong), 401);
  }
  const { token, session } = await options.sessions.create({ oneTimePassword: check.oneTime });
  bank.record({ type: "operator_login", client, session: session.id, oneTime: check.oneTime });
  // No way in without a durable audit record of it.
  if (!await flushed(options)) {
    await options.sessions.delete(token);
    return c.html(loginPage(LOGIN_MESSAGES.unavailable), 503);
  }
  logger.info("console", "login", { client, session: session.id });
  setCookie(c, SESSION_COOKIE_NAME, token, {
    path: "/",
    httpOnly: true,
    sameSite: "Strict",
    maxAge: Math.floor(SESSION_LIFETIME_MS / 1000),
  });
  return c.redirect("/", 303);
}

/** Makes the audit records so far durable; false (and a log line) when that failed. */
async function flushed(options: AuthOptions): Promise<boolean> {
  try {
    await options.bank.flushAudit();
    return true;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    options.logger.warn("console", "audit_flush_failed", { error: message });
    return false;
  }
}
