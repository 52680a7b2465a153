/**
 * Administrative events from processes that are not the log's writer (`bank customer add`,
 * `bank atm add`, `bank atm revoke`, `--demo`). Only one process may append to the chain, and a
 * bank may be serving while an operator runs those commands, so each command leaves its event in
 * `DIR/audit/inbox/` as one small file, encrypted with the audit encryption key and MACed with a
 * key derived from the master key. The writer takes the files into the chain at open and every
 * INBOX_POLL_INTERVAL_MS while it runs, and deletes each file only once its record is durable.
 *
 * A file's MAC covers its name, so a copy under another name is rejected; a file the writer cannot
 * authenticate becomes an `inbox_rejected` record and is renamed `*.rejected`, never dropped.
 *
 * @module
 */

import { AuditError } from "./audit_error.ts";
import {
  type Bytes,
  cbcDecrypt,
  cbcEncrypt,
  fromBase64Url,
  hkdfSha256,
  hmacSign,
  hmacVerify,
  importMacKey,
  randomBytes,
  toBase64Url,
} from "./audit_crypto.ts";
import { initAuditKeys, loadCipherKey } from "./audit_keys.ts";
import type { AuditEvent } from "./audit_types.ts";
import {
  EVENT_BYTES_MAX,
  INBOX_FILE_BYTES_MAX,
  INBOX_FILE_PATTERN,
  INBOX_FORMAT,
  INBOX_MAC_INFO,
  INBOX_MAC_LABEL,
  IV_BYTES,
  PATHS,
} from "./constants.ts";
import { checkEvent } from "./event_stamp.ts";
import { errorText, readKeyFile, syncDirectory, writePrivateFile } from "./key_file.ts";

/** Random bytes in an inbox id: two commands in the same millisecond never collide. */
const INBOX_ID_RANDOM_BYTES = 8;

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder("utf-8", { fatal: true });

/** The keys an inbox file is sealed with. */
export interface InboxKeys {
  cipherKey: CryptoKey;
  macKey: CryptoKey;
}

/** One inbox file as the writer found it. */
export interface InboxItem {
  /** The file name without `.evt`: `<ms>-<hex>`, also the `inboxId` of its record. */
  id: string;
  path: string;
  /** The event with `madeAt`, when the file authenticated and parsed. */
  event?: AuditEvent & { madeAt: string };
  /** Why the file was refused, when it was. */
  problem?: string;
}

/**
 * Loads the inbox keys from the master key file.
 *
 * @param dataDir The data directory.
 * @returns The audit encryption key and the inbox MAC key, both non-extractable.
 * @throws {AuditError} `missing_key`, `insecure_key_file`, `malformed`.
 */
export async function loadInboxKeys(dataDir: string): Promise<InboxKeys> {
  const cipherKey = await loadCipherKey(dataDir);
  const master = await readKeyFile(`${dataDir}/${PATHS.masterKey}`);
  const raw = await hkdfSha256(master, INBOX_MAC_INFO); // its length was checked just above
  master.fill(0);
  const macKey = await importMacKey(raw);
  raw.fill(0);
  return { cipherKey, macKey };
}

/**
 * Leaves an administrative event for the log's writer. Creates the audit keys on a data directory
 * that has none yet (as the bank's first start would).
 *
 * @param dataDir The data directory.
 * @param event The event; never a PIN or key.
 * @returns The inbox id, which the event's record will carry as `inboxId`.
 * @throws {TypeError} For an event `checkEvent` refuses or one over EVENT_BYTES_MAX.
 * @throws {AuditError} When the keys cannot be read or the file cannot be written durably.
 */
export async function submitAuditEvent(dataDir: string, event: AuditEvent): Promise<string> {
  checkEvent(event);
  const plain = ENCODER.encode(JSON.stringify({ event, madeAt: new Date().toISOString() }));
  if (plain.length > EVENT_BYTES_MAX) {
    throw new TypeError(`Audit event is ${plain.length} bytes, more than ${EVENT_BYTES_MAX}`);
  }
  await initAuditKeys({ dataDir });
  const keys = await loadInboxKeys(dataDir);
  const id = `${String(Date.now()).padStart(13, "0")}-${
    randomBytes(INBOX_ID_RANDOM_BYTES).toHex()
  }`;
  const iv = randomBytes(IV_BYTES);
  const ct = await cbcEncrypt(keys.cipherKey, iv, plain);
  const mac = await hmacSign(keys.macKey, inboxMacInput(id, iv, ct));
  const text = JSON.stringify({
    format: INBOX_FORMAT,
    iv: toBase64Url(iv),
    ct: toBase64Url(ct),
    mac: toBase64Url(mac),
  });
  const dir = `${dataDir}/${PATHS.inboxDir}`;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await writePrivateFile(`${dir}/${id}.evt`, ENCODER.encode(`${text}\n`), "audit inbox file");
  return id;
}

/**
 * Reads the oldest inbox files, authenticating and decrypting each.
 *
 * @param dataDir The data directory.
 * @param keys The inbox keys.
 * @param limit How many files at most.
 * @returns The files in the order they were made, each with its event or its problem.
 * @throws {AuditError} `io` when the inbox cannot be listed.
 */
export async function readInbox(
  dataDir: string,
  keys: InboxKeys,
  limit: number,
): Promise<InboxItem[]> {
  const dir = `${dataDir}/${PATHS.inboxDir}`;
  const ids: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const match = INBOX_FILE_PATTERN.exec(entry.name);
      if (match !== null && entry.isFile) ids.push(match[1]);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw new AuditError("io", `Cannot list the audit inbox: ${errorText(error)}`, {
      file: PATHS.inboxDir,
      cause: error,
    });
  }
  ids.sort(); // fixed-width millisecond prefix: name order is time order
  const items: InboxItem[] = [];
  for (const id of ids.slice(0, limit)) {
    const path = `${dir}/${id}.evt`;
    items.push({ id, path, ...await openItem(id, path, keys) });
  }
  return items;
}

async function openItem(
  id: string,
  path: string,
  keys: InboxKeys,
): Promise<Pick<InboxItem, "event" | "problem">> {
  let bytes: Bytes;
  try {
    const info = await Deno.lstat(path);
    if (!info.isFile || info.size > INBOX_FILE_BYTES_MAX) return { problem: "not an inbox file" };
    bytes = await Deno.readFile(path) as Bytes;
  } catch (error) {
    return { problem: `unreadable: ${errorText(error)}` };
  }
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(DECODER.decode(bytes));
  } catch {
    return { problem: "not JSON" };
  }
  const iv = typeof fields.iv === "string" ? fromBase64Url(fields.iv) : null;
  const ct = typeof fields.ct === "string" ? fromBase64Url(fields.ct) : null;
  const mac = typeof fields.mac === "string" ? fromBase64Url(fields.mac) : null;
  if (fields.format !== INBOX_FORMAT || iv?.length !== IV_BYTES || ct === null || mac === null) {
    return { problem: "not an inbox file" };
  }
  if (!await hmacVerify(keys.macKey, mac, inboxMacInput(id, iv, ct))) {
    return { problem: "MAC does not verify" };
  }
  const plain = await cbcDecrypt(keys.cipherKey, iv, ct);
  try {
    const value = JSON.parse(DECODER.decode(plain ?? new Uint8Array()));
    checkEvent(value.event);
    if (typeof value.madeAt !== "string") throw new TypeError("no madeAt");
    return { event: { ...value.event, madeAt: value.madeAt } };
  } catch {
    return { problem: "does not hold an event" };
  }
}

/**
 * Removes inbox files whose records are durable (or renames refused ones to `*.rejected`), then
 * makes the removal durable.
 *
 * @param dataDir The data directory.
 * @param items The files taken.
 * @throws {AuditError} `io` when a file cannot be removed.
 */
export async function clearInbox(dataDir: string, items: InboxItem[]): Promise<void> {
  if (items.length === 0) return;
  try {
    for (const item of items) {
      if (item.problem === undefined) await Deno.remove(item.path);
      else await Deno.rename(item.path, `${item.path}.rejected`);
    }
    await syncDirectory(`${dataDir}/${PATHS.inboxDir}`);
  } catch (error) {
    throw new AuditError("io", `Cannot clear the audit inbox: ${errorText(error)}`, {
      file: PATHS.inboxDir,
      cause: error,
    });
  }
}

function inboxMacInput(id: string, iv: Bytes, ct: Bytes): Bytes {
  const label = ENCODER.encode(`${INBOX_MAC_LABEL}\n${id}\n`);
  const out = new Uint8Array(label.length + iv.length + ct.length);
  out.set(label, 0);
  out.set(iv, label.length);
  out.set(ct, label.length + iv.length);
  return out;
}
