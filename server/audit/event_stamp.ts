/**
 * Checks an event before it enters the log, and stamps it with its sequence number, time and
 * server. Refusing here is a programmer error in the bank, so it throws TypeError.
 *
 * @module
 */

import type { AuditEvent } from "./audit_types.ts";
import { EVENT_BYTES_MAX } from "./constants.ts";

/** Field names that only ever hold secrets; an event carrying one is a bug in the caller. */
const SECRET_FIELD_NAMES = new Set([
  "pin",
  "pinhash",
  "psk",
  "key",
  "secret",
  "password",
  "passphrase",
  "token",
  "masterkey",
  "privatekey",
]);

/** Fields the writer sets; a caller's own value would be overwritten or contradict it. */
const STAMPED_FIELDS = ["seq", "at"];

/** How deep nested objects in an event are searched for secret field names. */
const EVENT_DEPTH_MAX = 8;

/** Longest event type name: types are short identifiers like "login_failed". */
const TYPE_CHARS_MAX = 64;

const ENCODER = new TextEncoder();

/**
 * Validates an event and returns the UTF-8 JSON of the stamped event.
 *
 * @param event The caller's event.
 * @param stamp Sequence number, time and server id to add.
 * @returns The plaintext to encrypt.
 * @throws {TypeError} For a missing type, a stamped or secret-looking field, a serverId that is
 * not this log's, a value JSON cannot hold, or an event over EVENT_BYTES_MAX.
 */
export function stampEvent(
  event: AuditEvent,
  stamp: { seq: number; at: string; serverId: string },
): Uint8Array<ArrayBuffer> {
  checkEvent(event);
  if ("serverId" in event && event.serverId !== stamp.serverId) {
    throw new TypeError("Audit event serverId differs from the log's server id");
  }
  let text: string;
  try {
    text = JSON.stringify({ seq: stamp.seq, at: stamp.at, serverId: stamp.serverId, ...event });
  } catch (error) {
    throw new TypeError(`Audit event is not JSON-serialisable: ${(error as Error).message}`);
  }
  const bytes = ENCODER.encode(text);
  if (bytes.length > EVENT_BYTES_MAX) {
    throw new TypeError(`Audit event is ${bytes.length} bytes, more than ${EVENT_BYTES_MAX}`);
  }
  return bytes;
}

/**
 * Checks what every event must be before it goes anywhere near the log: a plain object with a
 * short type, none of the fields the writer stamps, and no field named like a secret.
 *
 * @param event The caller's event.
 * @throws {TypeError} When it is not.
 */
export function checkEvent(event: AuditEvent): void {
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    throw new TypeError("Audit event must be a plain object");
  }
  if (
    typeof event.type !== "string" || event.type.length === 0 || event.type.length > TYPE_CHARS_MAX
  ) {
    throw new TypeError(`Audit event type must be a string of 1 to ${TYPE_CHARS_MAX} characters`);
  }
  for (const field of STAMPED_FIELDS) {
    if (field in event) throw new TypeError(`Audit event field "${field}" is set by the audit log`);
  }
  assertNoSecretFields(event, 0);
}

function assertNoSecretFields(value: unknown, depth: number): void {
  if (typeof value !== "object" || value === null) return;
  if (depth > EVENT_DEPTH_MAX) {
    throw new TypeError(`Audit event nests deeper than ${EVENT_DEPTH_MAX}`);
  }
  for (const [name, inner] of Object.entries(value)) {
    if (SECRET_FIELD_NAMES.has(name.toLowerCase())) {
      // the name only: the value is exactly what must not appear anywhere
      throw new TypeError(`Audit event field "${name}" looks like a secret; never log one`);
    }
    assertNoSecretFields(inner, depth + 1);
  }
}
