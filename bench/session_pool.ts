/**
 * Logged-in ATM sessions shared by the round-trip and transaction figures: opened and logged in
 * once (each login is a full PBKDF2 check at the bank), used in growing prefixes (the first 1, 10,
 * 100 ... ATMs), closed at the end.
 *
 * @module
 */

import { AtmSession } from "./atm_session.ts";
import type { BenchAtm } from "./provision.ts";

/** Sessions being opened and logged in at once. */
const OPENING_CONCURRENCY = 16;

/**
 * Opens a session for each ATM and logs its customer in.
 *
 * @param port The bank's port.
 * @param atms The ATMs, in order.
 * @returns The sessions, in the ATMs' order.
 * @throws {Error} When any session fails to open or log in (the others are closed).
 */
export async function openLoggedInSessions(
  port: number,
  atms: readonly BenchAtm[],
): Promise<AtmSession[]> {
  const sessions: AtmSession[] = new Array(atms.length);
  let next = 0;
  const opener = async () => {
    while (next < atms.length) {
      const index = next++;
      const session = await AtmSession.open(port, atms[index]);
      sessions[index] = session;
      await session.login();
    }
  };
  try {
    await Promise.all(Array.from({ length: OPENING_CONCURRENCY }, opener));
  } catch (error) {
    await closeSessions(sessions.filter((session) => session !== undefined));
    throw error;
  }
  return sessions;
}

/**
 * Closes sessions, ignoring ones that already failed.
 *
 * @param sessions The sessions.
 */
export async function closeSessions(sessions: readonly AtmSession[]): Promise<void> {
  await Promise.all(sessions.map((session) => session.close().catch(() => {})));
}
