/**
 * The bank's memory per idle session: its resident memory before and after opening many
 * authenticated sessions (full handshake each) that then sit idle.
 *
 * Sessions are mutually authenticated channels, not logged-in customers: a login costs the bank
 * one full PBKDF2 check, and ten thousand of them would take minutes of CPU on two cores while
 * adding only a reference to the customer to what a session holds.
 *
 * @module
 */

import { AtmSession } from "../atm_session.ts";
import type { BankServer } from "../bank_server.ts";
import type { BenchAtm } from "../provision.ts";

/** Handshakes in flight while the sessions are being opened. */
const OPENING_CONCURRENCY = 32;

/** Readings of resident memory taken after settling; the median is reported. */
const RSS_READINGS = 5;

/** Pause between two readings. */
const RSS_READING_GAP_MS = 200;

/** What the idle-session measurement found. */
export interface IdleSessionsResult {
  sessions: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  perSessionBytes: number;
  /** Time to open all sessions. */
  openSeconds: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function medianRss(bank: BankServer): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < RSS_READINGS; i++) {
    if (i > 0) await sleep(RSS_READING_GAP_MS);
    readings.push(await bank.rssBytes());
  }
  readings.sort((a, b) => a - b);
  return readings[Math.floor(readings.length / 2)];
}

/**
 * Opens `count` sessions, spread over the ATMs' credentials, reads the bank's memory, then closes
 * them all.
 *
 * @param bank A freshly started bank (nothing else connected).
 * @param atms Credentials, used in turn.
 * @param count Sessions to hold.
 * @param settleMs Wait before each memory reading, so the bank settles.
 * @returns Memory before, after, and per session.
 */
export async function measureIdleSessions(
  bank: BankServer,
  atms: readonly BenchAtm[],
  count: number,
  settleMs: number,
): Promise<IdleSessionsResult> {
  await sleep(settleMs);
  const rssBeforeBytes = await medianRss(bank);
  const sessions: AtmSession[] = [];
  const started = performance.now();
  let next = 0;
  const opener = async () => {
    while (next < count) {
      const atm = atms[next++ % atms.length];
      const session = await AtmSession.open(bank.port, atm);
      sessions.push(session);
      // One refused request proves the bank accepted our finished message; then the session idles.
      const answer = await session.send({ op: "balance" });
      if (answer.ok || answer.error !== "not_logged_in") {
        throw new Error(`Expected a not_logged_in refusal, got ${JSON.stringify(answer)}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: OPENING_CONCURRENCY }, opener));
    const openSeconds = (performance.now() - started) / 1000;
    await sleep(settleMs);
    const rssAfterBytes = await medianRss(bank);
    return {
      sessions: sessions.length,
      rssBeforeBytes,
      rssAfterBytes,
      perSessionBytes: (rssAfterBytes - rssBeforeBytes) / sessions.length,
      openSeconds,
    };
  } finally {
    await Promise.all(sessions.map((session) => session.close().catch(() => {})));
  }
}
