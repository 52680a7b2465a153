/**
 * Audit records of administrative commands. Those commands may run while a bank serves the same
 * data directory, so they do not write the log themselves: they leave the event in the audit
 * inbox, which the bank takes into the chain within a second (or at its next start).
 *
 * @module
 */

import { type AuditEvent, submitAuditEvent } from "../audit/mod.ts";
import { CliError } from "./cli_error.ts";

/**
 * Records an administrative action that has just been made.
 *
 * @param dataDir The data directory.
 * @param event What was done; never a PIN or key.
 * @param done The change in words, for the error when recording fails.
 * @throws {CliError} When the event cannot be left for the bank: the change stands, so the message
 * says so and the command exits non-zero instead of losing the record quietly.
 */
export async function recordAdminAction(
  dataDir: string,
  event: AuditEvent,
  done: string,
): Promise<void> {
  try {
    await submitAuditEvent(dataDir, event);
  } catch (error) {
    throw new CliError(
      `${done}, but its audit record could not be written: ${(error as Error).message}`,
    );
  }
}
