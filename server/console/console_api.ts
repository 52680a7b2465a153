/**
 * The console's read-only API, for signed-in operators only (the caller mounts it behind
 * `requireSession`): the live event stream, the customer list with recent transactions, and the
 * audit log verification. Nothing here changes the ledger.
 *
 * @module
 */

import type { Context } from "hono";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { formatCents } from "../../lib/amount.ts";
import { verifyAudit } from "../audit/mod.ts";
import type { Bank } from "../bank.ts";
import type { Logger } from "../logger.ts";
import type { ConsoleEnv } from "./console_auth.ts";
import type { SessionTable } from "./console_sessions.ts";
import { getCookie } from "hono/cookie";
import {
  CUSTOMER_HISTORY_ITEMS,
  CUSTOMERS_LISTED_MAX,
  SESSION_COOKIE_NAME,
  STREAM_TICK_MS,
} from "./constants.ts";
import type { LiveHub } from "./live_hub.ts";
import { summarizeVerification } from "./verification_view.ts";

/** What the API reads from. */
export interface ApiOptions {
  bank: Bank;
  hub: LiveHub;
  sessions: SessionTable;
  dataDir: string;
  logger: Logger;
}

/** Longest customer name looked up; real names are far shorter. */
const CUSTOMER_NAME_CHARS_MAX = 64;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The API routes under `/api`.
 *
 * @param options What the routes read from.
 * @returns A Hono app to mount at `/api`.
 */
export function apiRoutes(options: ApiOptions): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  let verifying = false;

  app.get("/session", (c) => c.json({ oneTimePassword: c.get("operator").oneTimePassword }));

  app.get("/events", (c) => liveStream(c, options));

  app.get("/customers", async (c) => {
    const all = await options.bank.store.listCustomers();
    const now = Date.now();
    const customers = all.slice(0, CUSTOMERS_LISTED_MAX).map((customer) => {
      const locked = customer.lockedUntil !== null && customer.lockedUntil > now;
      return {
        name: customer.name,
        balance: formatCents(customer.balanceCents),
        locked,
        lockedUntil: locked ? new Date(customer.lockedUntil!).toISOString() : null,
      };
    });
    return c.json({ customers, truncated: all.length > customers.length });
  });

  app.get("/customers/:name", async (c) => {
    const name = c.req.param("name").toLowerCase();
    const customer = name.length <= CUSTOMER_NAME_CHARS_MAX
      ? await options.bank.store.findCustomer(name)
      : undefined;
    if (customer === undefined) {
      return c.json({ error: "unknown_customer", message: "There is no such customer" }, 404);
    }
    const store = options.bank.store;
    const [balanceCents, items] = await Promise.all([
      store.balance(customer.id),
      store.history(customer.id, CUSTOMER_HISTORY_ITEMS),
    ]);
    const history = items.map((item) => ({
      at: item.at,
      kind: item.kind,
      amount: formatCents(item.amountCents),
      counterparty: item.counterparty,
      balanceAfter: formatCents(item.balanceAfterCents),
    }));
    return c.json({ name: customer.name, balance: formatCents(balanceCents), history });
  });

  app.get("/audit", async (c) => {
    // One verification at a time: it reads the whole log, and a second one would learn nothing.
    if (verifying) {
      return c.json({ error: "busy", message: "A verification is already running" }, 429);
    }
    verifying = true;
    try {
      const ledgerHead = await options.bank.store.auditHead(options.bank.serverId);
      const report = await verifyAudit({ dataDir: options.dataDir, ledgerHead });
      options.logger.info("console", "audit_verified", { ok: report.ok, records: report.records });
      return c.json(summarizeVerification(report, new Date()));
    } finally {
      verifying = false;
    }
  });

  return app;
}

/**
 * The live stream: a `snapshot` event first, then `activity` events as they happen and a
 * `state` event every tick. Ends with `signed_out` when the session ends, and when the console
 * closes.
 */
function liveStream(c: Context<ConsoleEnv>, options: ApiOptions): Response | Promise<Response> {
  const opened = options.hub.subscribe();
  if (opened === null) {
    return c.json({ error: "busy", message: "Too many live pages are open" }, 503);
  }
  const { subscription, recent } = opened;
  const token = getCookie(c, SESSION_COOKIE_NAME);
  const operator = { oneTimePassword: c.get("operator").oneTimePassword };
  return streamSSE(c, async (stream) => {
    stream.onAbort(() => subscription.close());
    try {
      const state = await options.hub.state();
      await stream.writeSSE({
        event: "snapshot",
        data: JSON.stringify({ recent, state, operator }),
      });
      let nextTick = Date.now() + STREAM_TICK_MS;
      while (!subscription.closed) {
        const batch = await subscription.next(Math.max(0, nextTick - Date.now()));
        if (batch === null) break;
        if (batch.items.length > 0 || batch.dropped > 0) {
          await stream.writeSSE({ event: "activity", data: JSON.stringify(batch) });
        }
        if (Date.now() < nextTick) continue;
        nextTick = Date.now() + STREAM_TICK_MS;
        if (await options.sessions.touch(token) === undefined) {
          await stream.writeSSE({ event: "signed_out", data: "{}" });
          break;
        }
        await stream.writeSSE({ event: "state", data: JSON.stringify(await options.hub.state()) });
      }
    } catch (error) {
      // A browser that went away makes writes fail; anything else is worth a line in the log.
      if (!stream.aborted) {
        options.logger.warn("console", "stream_failed", { error: errorText(error) });
      }
    } finally {
      subscription.close();
    }
  });
}
