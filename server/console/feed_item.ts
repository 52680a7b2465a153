/**
 * What the console shows of one activity event. Bank events are audit events and carry no
 * secrets, but the console still keeps only the fields it displays, from a fixed list, as short
 * plain values: a field added to an audit event later does not reach the browser unless it is
 * added here on purpose.
 *
 * @module
 */

import type { ActivityEvent } from "../activity.ts";
import { FEED_FIELD_CHARS_MAX } from "./constants.ts";

/** Fields the feed displays; everything else is dropped. */
const SHOWN_FIELDS = [
  "atmId",
  "customer",
  "op",
  "amount",
  "counterparty",
  "result",
  "reason",
  "failedLogins",
  "until",
  "replayed",
  "client",
  "serverId",
  "address",
  "remote",
] as const;

/** Event types that raise an alert on the console: failed sign-ins of any kind, and lockouts. */
const ALERT_TYPES: ReadonlySet<string> = new Set([
  "login_failed",
  "lockout",
  "operator_login_failed",
  "handshake_failed",
]);

/** Longest event type name kept. */
const TYPE_CHARS_MAX = 40;

/** One event as the console page receives it. */
export interface FeedItem {
  type: string;
  at: string;
  /** True for failed logins and lockouts, which the page shows as alerts. */
  alert: boolean;
  fields: Partial<Record<(typeof SHOWN_FIELDS)[number], string | number | boolean>>;
}

function shortText(text: string, charsMax: number): string {
  return text.length <= charsMax ? text : `${text.slice(0, charsMax - 1)}…`;
}

/**
 * Keeps the displayed fields of an activity event.
 *
 * @param event The event from the bank's activity feed.
 * @returns The feed item; values that are not strings, finite numbers or booleans are dropped.
 *
 * @example A deposit loses its ids and balance
 * ```ts
 * import { toFeedItem } from "./feed_item.ts";
 * const item = toFeedItem({
 *   type: "tx", at: "2025-01-01T00:00:00.000Z", customer: "alice", op: "deposit",
 *   amount: "5.00", balanceCents: 500, requestId: "r1",
 * });
 * if ("balanceCents" in item.fields || item.fields.amount !== "5.00") throw new Error("unexpected");
 * ```
 */
export function toFeedItem(event: ActivityEvent): FeedItem {
  const fields: FeedItem["fields"] = {};
  for (const name of SHOWN_FIELDS) {
    const value = event[name];
    if (typeof value === "string") fields[name] = shortText(value, FEED_FIELD_CHARS_MAX);
    else if (typeof value === "number" && Number.isFinite(value)) fields[name] = value;
    else if (typeof value === "boolean") fields[name] = value;
  }
  const type = shortText(String(event.type), TYPE_CHARS_MAX);
  return { type, at: String(event.at), alert: ALERT_TYPES.has(type), fields };
}
