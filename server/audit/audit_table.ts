/**
 * The `--pretty` form of decrypted events: one aligned row per event. Columns have fixed widths
 * so rows can be printed as they stream, without reading the whole log first.
 *
 * @module
 */

import type { StampedEvent } from "./audit_types.ts";

/** Column widths: a seq up to 9,999,999, an ISO time, every event type the bank writes
 * (the longest is `operator_login_failed`), and customer names up to 16 characters. A longer
 * value pushes its row's later columns right rather than being cut. */
const SEQ_WIDTH = 7;
const TIME_WIDTH = 24;
const TYPE_WIDTH = 21;
const CUSTOMER_WIDTH = 16;

/** Fields shown in their own columns (or implied), left out of the details column. */
const COLUMN_FIELDS = new Set(["seq", "at", "type", "customer", "serverId"]);

const PLAIN_VALUE = /^[A-Za-z0-9_.:@/+-]+$/;

/**
 * The header row.
 *
 * @returns The header line, newline included.
 */
export function tableHeader(): string {
  return row(["SEQ", "TIME", "TYPE", "CUSTOMER", "DETAILS"]);
}

/**
 * One event as a row.
 *
 * @param event The decrypted event.
 * @returns The line, newline included.
 */
export function tableRow(event: StampedEvent): string {
  const details = Object.entries(event)
    .filter(([name, value]) => !COLUMN_FIELDS.has(name) && value !== undefined)
    .map(([name, value]) => `${name}=${formatValue(value)}`)
    .join(" ");
  const customer = typeof event.customer === "string" ? event.customer : "-";
  return row([String(event.seq), event.at, event.type, customer, details]);
}

function row(cells: [string, string, string, string, string]): string {
  const [seq, at, type, customer, details] = cells;
  return `${seq.padStart(SEQ_WIDTH)}  ${at.padEnd(TIME_WIDTH)}  ${type.padEnd(TYPE_WIDTH)}  ` +
    `${customer.padEnd(CUSTOMER_WIDTH)}  ${details}`.trimEnd() + "\n";
}

function formatValue(value: unknown): string {
  if (typeof value === "string" && PLAIN_VALUE.test(value)) return value;
  return JSON.stringify(value);
}
