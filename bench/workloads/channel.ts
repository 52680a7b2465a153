/**
 * The bank's secure channel under load: full handshakes on new connections, and balance
 * round trips over open channels.
 *
 * @module
 */

import { AtmSession } from "../atm_session.ts";
import { type ClosedLoopResult, runClosedLoop } from "../closed_loop.ts";
import type { BenchAtm } from "../provision.ts";

/** Timing of one measurement. */
export interface Window {
  warmupMs: number;
  measureMs: number;
}

/**
 * Handshakes per second: each operation connects, runs the full mutual authentication (PSK +
 * X25519), and makes one request so the bank's verdict on our finished message is in (the
 * request is refused as "not logged in", which needs no storage), then closes.
 *
 * @param port The bank's port.
 * @param atms Credentials, used in turn.
 * @param workers Connections opened at once.
 * @param window Warm-up and measured time.
 * @returns Completed handshakes per second and their latency.
 */
export function measureBankHandshakes(
  port: number,
  atms: readonly BenchAtm[],
  workers: number,
  window: Window,
): Promise<ClosedLoopResult> {
  let next = 0;
  return runClosedLoop({
    workers,
    ...window,
    operation: async () => {
      const atm = atms[next++ % atms.length];
      const session = await AtmSession.open(port, atm);
      try {
        const answer = await session.send({ op: "balance" });
        if (answer.ok || answer.error !== "not_logged_in") {
          throw new Error(`Expected a not_logged_in refusal, got ${JSON.stringify(answer)}`);
        }
      } finally {
        await session.close();
      }
    },
  });
}

/**
 * Balance inquiries per second over already open, logged-in channels, one in flight per ATM.
 *
 * @param sessions Logged-in sessions, one per ATM; all of them are used.
 * @param window Warm-up and measured time.
 * @returns Round trips per second and their latency.
 */
export function measureBankRoundTrips(
  sessions: readonly AtmSession[],
  window: Window,
): Promise<ClosedLoopResult> {
  return runClosedLoop({
    workers: sessions.length,
    ...window,
    operation: async (index) => {
      await sessions[index].expectOk({ op: "balance" });
    },
  });
}
