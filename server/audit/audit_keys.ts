/**
 * The audit log's keys and how they relate.
 *
 * ```
 * master key (keys/audit-master.key, 32 random bytes)
 *   └─ HKDF "bank audit encryption v1" → AES-256-CBC key       (confidentiality, all epochs)
 * epoch secret 0 = offline key (audit-offline.key, 32 random bytes, stored away by the operator)
 *   ├─ HKDF "bank audit epoch mac v1"  → HMAC key of epoch 0
 *   └─ HKDF "bank audit epoch step v1" → epoch secret 1 → ... → epoch secret n (keys/audit-epoch.key)
 * ```
 *
 * The integrity chain deliberately does not start at the master key: the server needs the master
 * key to keep encrypting, so anyone who steals the server's files has it, and past MAC keys must
 * not follow from anything left on the server. The step is one-way, so the current epoch secret
 * reveals no earlier one; the offline key re-derives them all, and verifies without being able to
 * decrypt (an auditor needs only the offline key to check integrity).
 *
 * @module
 */

import { AuditError } from "./audit_error.ts";
import {
  type Bytes,
  fromBase64Url,
  hkdfSha256,
  importCipherKey,
  importMacKey,
  randomBytes,
  toBase64Url,
} from "./audit_crypto.ts";
import {
  ENCRYPTION_INFO,
  EPOCH_KEY_FORMAT,
  EPOCH_MAC_INFO,
  EPOCH_MAX,
  EPOCH_STEP_INFO,
  KEY_BYTES,
  OFFLINE_KEY_FORMAT,
  PATHS,
} from "./constants.ts";
import { pathExists, readKeyFile, writeKeyFile } from "./key_file.ts";

/** File in the keys directory that serialises the creation of the audit keys (flock). */
const INIT_LOCK_NAME = "audit-keys.lock";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder("utf-8", { fatal: true });

/** Absolute-or-relative paths of the key files of one data directory. */
export interface AuditKeyPaths {
  keysDir: string;
  masterKey: string;
  epochKey: string;
  offlineKey: string;
  logDir: string;
}

/**
 * Names the audit files of a data directory.
 *
 * @param dataDir The data directory.
 * @returns The paths.
 */
export function auditPaths(dataDir: string): AuditKeyPaths {
  return {
    keysDir: `${dataDir}/${PATHS.keysDir}`,
    masterKey: `${dataDir}/${PATHS.masterKey}`,
    epochKey: `${dataDir}/${PATHS.epochKey}`,
    offlineKey: `${dataDir}/${PATHS.offlineKey}`,
    logDir: `${dataDir}/${PATHS.logDir}`,
  };
}

/** The server's current epoch: the only MAC secret kept on its disk. */
export interface EpochState {
  epoch: number;
  /** When this epoch began; it moves on after EPOCH_AGE_MAX_MS. */
  since: Date;
  /** The epoch secret; zero it when the epoch moves on. */
  secret: Bytes;
}

/**
 * Creates the master key, the epoch-0 key and the offline key on first start; does nothing when
 * the server's keys exist. The offline key is written once: the operator moves it off the server.
 *
 * @param options The data directory.
 * @returns Whether keys were created, where the offline key was written, and whether it is still
 * there (the bank reminds the operator to move it at every start until it is gone).
 * @throws {AuditError} `missing_key` when one server key is missing but the log has records (a new
 * key would silently start a new chain); `insecure_key_file` for a key file others can access.
 */
export async function initAuditKeys(
  options: { dataDir: string },
): Promise<{ created: boolean; offlineKeyPath: string; offlineKeyPresent: boolean }> {
  const paths = auditPaths(options.dataDir);
  await Deno.mkdir(paths.keysDir, { recursive: true, mode: 0o700 });
  // two processes starting on a new directory (a bank and an admin command) must not both create
  // keys: the second would replace the first's, and what the first sealed would not open
  const lock = await Deno.open(`${paths.keysDir}/${INIT_LOCK_NAME}`, {
    read: true,
    write: true,
    create: true,
    mode: 0o600,
  });
  try {
    await lock.lock(true);
    return await createKeysOnce(paths);
  } finally {
    lock.close(); // releases the lock
  }
}

async function createKeysOnce(
  paths: AuditKeyPaths,
): Promise<{ created: boolean; offlineKeyPath: string; offlineKeyPresent: boolean }> {
  const offlineKeyPath = paths.offlineKey;
  const hasMaster = await pathExists(paths.masterKey);
  const hasEpoch = await pathExists(paths.epochKey);
  if (hasMaster && hasEpoch) {
    (await readKeyFile(paths.masterKey)).fill(0); // refuses a key file others can read
    (await loadEpochState(paths.epochKey)).secret.fill(0);
    return { created: false, offlineKeyPath, offlineKeyPresent: await pathExists(offlineKeyPath) };
  }
  if (await logHasRecords(paths.logDir)) {
    // a new key would silently start a second chain over the records of the first
    throw new AuditError("missing_key", "Audit key is missing but the audit log has records", {
      file: hasMaster ? paths.epochKey : paths.masterKey,
    });
  }
  // offline key first, master key last: a crash in between leaves no master key, so the next
  // start begins again from scratch (the log is still empty)
  const root = randomBytes(KEY_BYTES);
  await writeKeyFile(offlineKeyPath, encodeOfflineKey(root));
  await saveEpochState(paths.epochKey, { epoch: 0, since: new Date(), secret: root });
  root.fill(0);
  const master = randomBytes(KEY_BYTES);
  await writeKeyFile(paths.masterKey, master);
  master.fill(0);
  return { created: true, offlineKeyPath, offlineKeyPresent: true };
}

async function logHasRecords(logDir: string): Promise<boolean> {
  try {
    for await (const entry of Deno.readDir(logDir)) {
      if (!entry.isFile) continue;
      if ((await Deno.stat(`${logDir}/${entry.name}`)).size > 0) return true;
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
  return false;
}

/**
 * Loads the AES-256-CBC key from the master key file.
 *
 * @param dataDir The data directory.
 * @returns The non-extractable cipher key.
 * @throws {AuditError} `missing_key`, `insecure_key_file`, `malformed`.
 */
export function loadCipherKey(dataDir: string): Promise<CryptoKey> {
  return withCipherKeyBytes(dataDir, importCipherKey);
}

/**
 * Derives the AES-256-CBC key from the master key file, hands its bytes to `use`, and zeroes them
 * when `use` has settled: the key leaves JavaScript memory once `use` has set it into a native
 * context or a non-extractable key.
 *
 * @param dataDir The data directory.
 * @param use Builds something that holds the key; must not keep the bytes.
 * @returns What `use` built.
 * @throws {AuditError} `missing_key`, `insecure_key_file`, `malformed`.
 */
export async function withCipherKeyBytes<T>(
  dataDir: string,
  use: (raw: Bytes) => T | Promise<T>,
): Promise<T> {
  const path = auditPaths(dataDir).masterKey;
  const master = await readKeyFile(path);
  if (master.length !== KEY_BYTES) {
    master.fill(0);
    throw new AuditError("malformed", `Master key is ${master.length} bytes, not ${KEY_BYTES}`, {
      file: path,
    });
  }
  const raw = await hkdfSha256(master, ENCRYPTION_INFO);
  master.fill(0);
  try {
    return await use(raw);
  } finally {
    raw.fill(0);
  }
}

/**
 * Reads the server's current epoch key file.
 *
 * @param path The epoch key file.
 * @returns The epoch state; the caller zeroes `secret`.
 * @throws {AuditError} `missing_key`, `insecure_key_file`, `malformed`.
 */
export async function loadEpochState(path: string): Promise<EpochState> {
  const raw = await readKeyFile(path);
  const fields = parseKeyJson(raw, path);
  raw.fill(0);
  const secret = typeof fields.secret === "string" ? fromBase64Url(fields.secret) : null;
  const since = typeof fields.since === "string" ? new Date(fields.since) : new Date(NaN);
  if (
    fields.format !== EPOCH_KEY_FORMAT || !isEpoch(fields.epoch) || secret === null ||
    secret.length !== KEY_BYTES || Number.isNaN(since.getTime())
  ) {
    secret?.fill(0);
    throw new AuditError("malformed", "Not an audit epoch key file", { file: path });
  }
  return { epoch: fields.epoch, since, secret };
}

/**
 * Replaces the epoch key file atomically; the previous epoch's secret is gone from it afterwards.
 *
 * @param path The epoch key file.
 * @param state The new epoch.
 */
export async function saveEpochState(path: string, state: EpochState): Promise<void> {
  const text = JSON.stringify({
    format: EPOCH_KEY_FORMAT,
    epoch: state.epoch,
    since: state.since.toISOString(),
    secret: toBase64Url(state.secret),
  });
  const bytes = ENCODER.encode(text);
  await writeKeyFile(path, bytes);
  bytes.fill(0);
}

/**
 * Reads an offline key file.
 *
 * @param path The file the operator kept.
 * @returns Epoch secret 0; the caller zeroes it.
 * @throws {AuditError} `missing_key`, `insecure_key_file`, `malformed`.
 */
export async function loadOfflineKey(path: string): Promise<Bytes> {
  const raw = await readKeyFile(path);
  const fields = parseKeyJson(raw, path);
  raw.fill(0);
  const secret = typeof fields.secret === "string" ? fromBase64Url(fields.secret) : null;
  if (fields.format !== OFFLINE_KEY_FORMAT || secret === null || secret.length !== KEY_BYTES) {
    secret?.fill(0);
    throw new AuditError("malformed", "Not an audit offline key file", { file: path });
  }
  return secret;
}

function encodeOfflineKey(root: Bytes): Bytes {
  const text = JSON.stringify({
    format: OFFLINE_KEY_FORMAT,
    note: "Verifies every epoch of the audit log. Keep it away from the bank server.",
    createdAt: new Date().toISOString(),
    secret: toBase64Url(root),
  });
  return ENCODER.encode(`${text}\n`);
}

function parseKeyJson(raw: Bytes, path: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(DECODER.decode(raw));
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // reported below without echoing the contents, which may be key bytes
  }
  throw new AuditError("malformed", "Key file is not the expected JSON", { file: path });
}

/**
 * Tells whether a value is a valid epoch number.
 *
 * @param value Anything.
 * @returns True for an integer 0..EPOCH_MAX.
 */
export function isEpoch(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= EPOCH_MAX;
}

/**
 * Steps an epoch secret forward, one way.
 *
 * @param secret Epoch secret n.
 * @returns Epoch secret n + 1.
 */
export function nextEpochSecret(secret: Bytes): Promise<Bytes> {
  return hkdfSha256(secret, EPOCH_STEP_INFO);
}

/**
 * Derives the HMAC key of an epoch from its secret.
 *
 * @param secret The epoch secret.
 * @returns The non-extractable HMAC key.
 */
export async function epochMacKey(secret: Bytes): Promise<CryptoKey> {
  const raw = await hkdfSha256(secret, EPOCH_MAC_INFO);
  const key = await importMacKey(raw);
  raw.fill(0);
  return key;
}
