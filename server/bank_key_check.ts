/**
 * Makes sure a data directory's bank key (`keys/bank.key`) is the key of the ledger it is used
 * with. Every server of one bank must hold the same key: PIN hashes are peppered with it and ATM
 * keys are wrapped with it. The ledger records the key's check value the first time a server or
 * command opens it; a data directory with another key is refused before it writes anything.
 *
 * @module
 */

import type { DataDir } from "./data_dir.ts";
import type { LedgerStore } from "./ledger/store.ts";

/** Why the bank key and the ledger do not go together. */
export type BankKeyErrorCode = "bank_key_missing" | "bank_key_mismatch";

/** The data directory's bank key is not the one the ledger was set up with. */
export class BankKeyError extends Error {
  /** "bank_key_missing": the directory had no key; "bank_key_mismatch": it has another one. */
  readonly code: BankKeyErrorCode;

  /**
   * Creates the error.
   *
   * @param code Why.
   * @param message What to do about it.
   */
  constructor(code: BankKeyErrorCode, message: string) {
    super(message);
    this.name = "BankKeyError";
    this.code = code;
  }
}

/**
 * Checks the data directory's bank key against the ledger, recording it when the ledger has
 * none yet. A key that the opening of this directory has just created was never used: on a
 * mismatch it is removed again, so the operator can copy the bank's key in its place.
 *
 * @param store The open ledger.
 * @param dataDir The open data directory.
 * @param ledgerName The ledger in words, for the message (never a password).
 * @throws {BankKeyError} When the keys differ.
 */
export async function checkBankKey(
  store: LedgerStore,
  dataDir: DataDir,
  ledgerName: string,
): Promise<void> {
  const recorded = await store.claimBankKeyCheck(dataDir.secrets.keyCheck);
  // Check values are one-way fingerprints, not secrets: a plain comparison leaks nothing.
  if (recorded === dataDir.secrets.keyCheck) return;
  const keyPath = dataDir.paths.bankSecret;
  if (dataDir.created) {
    await Deno.remove(keyPath);
    throw new BankKeyError(
      "bank_key_missing",
      `The ledger ${ledgerName} belongs to a bank whose key is not in ${keyPath}: copy ` +
        `keys/bank.key from a server of this bank to ${keyPath} (owner-only, mode 600) and ` +
        `start again`,
    );
  }
  throw new BankKeyError(
    "bank_key_mismatch",
    `The bank key ${keyPath} is not the key of the ledger ${ledgerName}: every server of a ` +
      `bank needs the same keys/bank.key; nothing was changed`,
  );
}

/**
 * Removes the bank key that opening a new data directory has just created, when the command
 * then fails before using it (e.g. the shared ledger was unreachable). Left behind, it would be
 * taken for the bank's key at the next start.
 *
 * @param dataDir The data directory as opened.
 */
export async function forgetNewBankKey(dataDir: DataDir): Promise<void> {
  if (dataDir.created) await Deno.remove(dataDir.paths.bankSecret).catch(() => {});
}
