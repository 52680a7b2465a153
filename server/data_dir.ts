/**
 * The bank's data directory: where the ledger, the keys, the audit log and the ATM credential
 * files live, and the bank-wide secret that every server of one bank shares.
 *
 * ```
 * DIR/                    0700
 *   ledger.sqlite         the ledger (unless --db points at PostgreSQL)
 *   keys/bank.key         32 random bytes, 0600: the bank-wide secret (PIN pepper, ATM key wrap)
 *   keys/...              the audit log's keys (see docs/audit-log.md)
 *   atms/ATM-ID.json      credential files written by `bank atm add` and `--demo`, 0600
 *   audit/                the encrypted audit log
 * ```
 *
 * @module
 */

import { readSecretFile, writeSecretFile } from "../lib/mod.ts";
import { LOG_FILE_PATTERN, PATHS } from "./audit/constants.ts";
import { type BankSecrets, deriveBankSecrets } from "./bank_secrets.ts";

/** Size of the bank-wide secret in bytes: a full 256-bit key. */
export const BANK_SECRET_BYTES = 32;

/** Paths inside one data directory. */
export interface DataDirPaths {
  root: string;
  ledger: string;
  keys: string;
  bankSecret: string;
  atms: string;
}

/**
 * Names the files of a data directory without touching the disk.
 *
 * @param root The data directory.
 * @returns Its paths.
 */
export function dataDirPaths(root: string): DataDirPaths {
  const keys = `${root}/keys`;
  return {
    root,
    ledger: `${root}/ledger.sqlite`,
    keys,
    bankSecret: `${keys}/bank.key`,
    atms: `${root}/atms`,
  };
}

/** An open data directory with the secrets derived from its bank key. */
export interface DataDir {
  paths: DataDirPaths;
  secrets: BankSecrets;
  /** True when this call created the bank key, i.e. the directory was new. */
  created: boolean;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Opens a data directory, creating it (owner-only) and the bank key on first use.
 *
 * @param root The data directory.
 * @returns The paths and the derived secrets.
 * @throws {SecretFileError} When the bank key is readable by others or unreadable.
 */
export async function openDataDir(root: string): Promise<DataDir> {
  const paths = dataDirPaths(root);
  await Deno.mkdir(paths.keys, { recursive: true, mode: 0o700 });
  await Deno.mkdir(paths.atms, { recursive: true, mode: 0o700 });
  let created = false;
  if (!await exists(paths.bankSecret)) {
    const secret = crypto.getRandomValues(new Uint8Array(BANK_SECRET_BYTES));
    await writeSecretFile(paths.bankSecret, secret);
    secret.fill(0);
    created = true;
  }
  const raw = await readSecretFile(paths.bankSecret);
  const secrets = await deriveBankSecrets(raw);
  raw.fill(0);
  return { paths, secrets, created };
}

/** A data directory that was set up before has lost a part it cannot work without. */
export class DataDirError extends Error {
  /** Always "ledger_missing": the SQLite ledger file is gone. */
  readonly code = "ledger_missing";

  /** @param message What is missing and what to do. */
  constructor(message: string) {
    super(message);
    this.name = "DataDirError";
  }
}

async function hasAuditLogFiles(root: string): Promise<boolean> {
  try {
    for await (const entry of Deno.readDir(`${root}/${PATHS.logDir}`)) {
      if (entry.isFile && LOG_FILE_PATTERN.test(entry.name)) return true;
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
  return false;
}

/**
 * Refuses to let a SQLite ledger be created in a data directory that was in use before (its bank
 * key existed already, or its audit log has records): the ledger file was lost or moved, and a
 * new, empty one would silently drop every customer and balance.
 *
 * @param dataDir The data directory as {@link openDataDir} opened it.
 * @throws {DataDirError} When the ledger file is missing from a directory in use.
 */
export async function assertSqliteLedgerKept(dataDir: DataDir): Promise<void> {
  const { ledger, root } = dataDir.paths;
  if (await exists(ledger)) return;
  if (dataDir.created && !await hasAuditLogFiles(root)) return; // a new bank: created next
  throw new DataDirError(
    `The ledger ${ledger} is missing, but the data directory ${root} is in use (it has a bank ` +
      `key or an audit log): restore ledger.sqlite from a backup. A new, empty ledger would ` +
      `drop every customer and balance, so nothing was started or changed`,
  );
}
