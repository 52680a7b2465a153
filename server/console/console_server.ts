/**
 * The operator console's web server: sign-in, the three pages (live, customers, audit), the
 * read-only API with its live event stream, and the static files, on its own port.
 *
 * It listens on loopback unless the operator names another address. On loopback it also refuses
 * any `Host` header but its own loopback names, so a web page that rebinds its DNS name to
 * 127.0.0.1 cannot talk to the console through the operator's browser.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { Hono } from "hono";
import type { Bank } from "../bank.ts";
import type { Logger } from "../logger.ts";
import type { SessionRegistry } from "../session_registry.ts";
import { apiRoutes } from "./console_api.ts";
import { authRoutes, type ConsoleEnv, requireSession } from "./console_auth.ts";
import { SessionTable } from "./console_sessions.ts";
import { LiveHub } from "./live_hub.ts";
import { LoginLimiter } from "./login_limiter.ts";
import { ensureOperatorPassword } from "./operator_password.ts";
import { consoleSecurityHeaders } from "./security_headers.ts";
import { loginPage, PAGES, STATIC_ASSETS } from "./static_assets.ts";

/** What the console serves from and where it listens. */
export interface ConsoleOptions {
  bank: Bank;
  registry: SessionRegistry;
  dataDir: string;
  logger: Logger;
  /** Address to listen on; loopback unless the operator asked otherwise. */
  hostname: string;
  /** TCP port; 0 picks a free one (tests). */
  port: number;
}

/** A running console. */
export interface RunningConsole {
  /** Where it listens. */
  addr: Deno.NetAddr;
  /** The page to open, e.g. `http://127.0.0.1:4080/`. */
  url: string;
  /**
   * Hands over the one-time password created because no operator password existed yet, to be
   * shown to the operator exactly once: the first call returns it and forgets it, later calls and
   * starts with a password already set return null.
   */
  takeOneTimePassword(): string | null;
  /** Ends every live stream and stops listening. */
  close(): Promise<void>;
}

/** Whether an address is loopback, where the Host check applies. */
function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || hostname.startsWith("127.");
}

/**
 * Refuses requests whose `Host` is not one of the console's loopback names.
 *
 * @param port The port the console listens on; a function, as it is known only once listening.
 * @returns The middleware.
 */
export function loopbackHostOnly(port: () => number): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header("host")?.toLowerCase() ?? "";
    const names = [`127.0.0.1:${port()}`, `localhost:${port()}`, `[::1]:${port()}`];
    if (!names.includes(host)) {
      return c.text("Unknown host: open the console at its loopback address", 421);
    }
    await next();
  };
}

/** What {@link consoleApp} needs besides the bank. */
export interface ConsoleAppOptions {
  bank: Bank;
  hub: LiveHub;
  sessions: SessionTable;
  limiter: LoginLimiter;
  dataDir: string;
  logger: Logger;
}

/**
 * Builds the console's routes. Everything but the sign-in page and the static files needs a
 * signed-in operator.
 *
 * @param options The bank and the console's state.
 * @returns The Hono app.
 */
export function consoleApp(options: ConsoleAppOptions): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  app.use("*", consoleSecurityHeaders());

  app.get("/static/:name", (c) => {
    const asset = STATIC_ASSETS.get(c.req.param("name"));
    if (asset === undefined) return c.notFound();
    return c.body(asset.body, 200, { "Content-Type": asset.contentType });
  });

  app.route("/", authRoutes({ ...options, loginPage }));

  const page = requireSession(options.sessions, "page");
  app.get("/", page, (c) => c.html(PAGES.dashboard));
  app.get("/customers", page, (c) => c.html(PAGES.customers));
  app.get("/audit", page, (c) => c.html(PAGES.audit));

  app.use("/api/*", requireSession(options.sessions, "api"));
  app.route("/api", apiRoutes(options));

  app.notFound((c) => c.text("Not found", 404));
  app.onError((error, c) => {
    options.logger.warn("console", "request_failed", {
      path: c.req.path,
      error: error instanceof Error ? error.message : String(error),
    });
    return c.text("The console could not answer this request. See the bank's log.", 500);
  });
  return app;
}

/**
 * Starts the console: makes sure an operator password exists (creating a one-time one on first
 * start), then listens.
 *
 * @param options The bank, where to listen, and where its password file lives.
 * @returns The running console.
 * @throws {OperatorPasswordError} When the password file is unsafe or unreadable.
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  let oneTimePassword = await ensureOperatorPassword(options.dataDir);
  const hub = new LiveHub({
    bank: options.bank,
    registry: options.registry,
    metrics: options.bank.metrics,
  });
  const app = consoleApp({
    bank: options.bank,
    hub,
    sessions: new SessionTable(),
    limiter: new LoginLimiter(),
    dataDir: options.dataDir,
    logger: options.logger,
  });
  let boundPort = options.port;
  const outer = new Hono<ConsoleEnv>();
  if (isLoopback(options.hostname)) outer.use("*", loopbackHostOnly(() => boundPort));
  outer.route("/", app);
  const abort = new AbortController();
  const listening = Promise.withResolvers<Deno.NetAddr>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: options.hostname,
      port: options.port,
      signal: abort.signal,
      onListen: (addr) => {
        boundPort = addr.port;
        listening.resolve(addr);
      },
    }, (request, info) => outer.fetch(request, info));
  } catch (error) {
    hub.close();
    if (error instanceof Deno.errors.AddrInUse) {
      throw new Deno.errors.AddrInUse(
        `Console port ${options.port} is in use: pick another with --console-port, or 0 for none`,
      );
    }
    throw error;
  }
  const addr = await listening.promise;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    addr,
    url: `http://${host}:${addr.port}/`,
    takeOneTimePassword() {
      const password = oneTimePassword;
      oneTimePassword = null;
      return password;
    },
    async close() {
      // Streams end first: the server waits for open responses before it finishes.
      hub.close();
      abort.abort();
      await server.finished;
    },
  };
}
