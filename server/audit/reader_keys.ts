/**
 * Keys for reading the log: the server's current epoch, or every epoch from the offline key.
 *
 * @module
 */

import { AuditError } from "./audit_error.ts";
import { auditPaths, loadEpochState, loadOfflineKey } from "./audit_keys.ts";
import { ForwardKeyring, type Keyring } from "./keyring.ts";
import { RecordDecrypter } from "./record_cipher.ts";

/**
 * Builds the keyring a reader checks MACs with.
 *
 * @param options The data directory, and the offline key file when the caller has it.
 * @returns All epochs with the offline key, otherwise the server's current epoch and later ones.
 * @throws {AuditError} `missing_key`, `insecure_key_file` or `malformed` for an unusable key file.
 */
export async function readerKeyring(
  options: { dataDir: string; offlineKeyPath?: string },
): Promise<Keyring> {
  if (options.offlineKeyPath !== undefined) {
    const root = await loadOfflineKey(options.offlineKeyPath);
    const keyring = new ForwardKeyring(root, 0);
    root.fill(0);
    return keyring;
  }
  // a running bank may step its epoch while we read: later epochs derive from this one
  const state = await loadEpochState(auditPaths(options.dataDir).epochKey);
  const keyring = new ForwardKeyring(state.secret, state.epoch);
  state.secret.fill(0);
  return keyring;
}

/**
 * Loads the decryption key when the master key file exists; an auditor holding only the offline
 * key verifies without it.
 *
 * @param dataDir The data directory.
 * @returns The decrypter, or null when there is no master key file.
 * @throws {AuditError} `insecure_key_file` or `malformed` for an unusable master key file.
 */
export async function optionalDecrypter(dataDir: string): Promise<RecordDecrypter | null> {
  try {
    return await RecordDecrypter.load(dataDir);
  } catch (error) {
    if (error instanceof AuditError && error.code === "missing_key") return null;
    throw error;
  }
}
