/**
 * The two sizes of the torture run. `--quick` is what CI runs on every change and stays well
 * under two minutes on a shared 2-core machine; the full run is the one whose figures go into
 * docs/reliability.md and stays under fifteen minutes.
 *
 * @module
 */

import type { AtmPolicy } from "./torture_atm.ts";

/** Everything that sizes one torture run. */
export interface TortureConfig {
  /** "quick" or "full", printed with the figures. */
  mode: "quick" | "full";
  /** Simulated ATMs running at once. */
  atms: number;
  /** Customers the ATMs log in as (ATM i uses customer i modulo this). */
  customers: number;
  /** Each customer's opening balance. */
  openingCents: number;
  /** SIGKILLs of the bank during the run. */
  kills: number;
  /** Time the bank serves between two kills: a random value in this range. */
  servingMsMin: number;
  servingMsMax: number;
  /** Chance that a restarted bank is killed again at once, before or while it starts listening. */
  earlyKillChance: number;
  /** How soon after the restart such an early kill comes: 0 to this many ms. */
  earlyKillMsMax: number;
  /**
   * How many of the kills (picked at random) keep the bank down for `outageMs`: long enough for
   * the ATMs to give up on their requests, which then stay in doubt until the end of the run.
   */
  outages: number;
  outageMs: number;
  /** Time the last bank serves after the last kill before the ATMs stop. */
  finalServingMs: number;
  /** Time allowed to settle every operation left in doubt, after the ATMs stopped. */
  resolveMs: number;
  /** The whole run gives up (and fails) after this long. */
  runMsMax: number;
  /** Patience of each ATM. */
  policy: AtmPolicy;
}

const POLICY: AtmPolicy = {
  sendsMax: 8,
  backoffMsInitial: 100,
  backoffMsMax: 2_000,
  stepTimeoutMs: 15_000,
  amountCentsMax: 5_000,
};

/** `deno task torture --quick`: run by `.ci/run`. */
export const QUICK: TortureConfig = {
  mode: "quick",
  atms: 10,
  customers: 5,
  openingCents: 100_000,
  kills: 8,
  servingMsMin: 2_000,
  servingMsMax: 6_000,
  earlyKillChance: 0.25,
  earlyKillMsMax: 1_200,
  outages: 1,
  outageMs: 9_000,
  finalServingMs: 2_000,
  resolveMs: 30_000,
  runMsMax: 110_000,
  policy: POLICY,
};

/** `deno task torture`: the full run of the issue, 50 ATMs and 20 kills. */
export const FULL: TortureConfig = {
  mode: "full",
  atms: 50,
  customers: 10,
  openingCents: 100_000,
  kills: 20,
  servingMsMin: 4_000,
  servingMsMax: 15_000,
  earlyKillChance: 0.2,
  earlyKillMsMax: 1_500,
  outages: 3,
  outageMs: 9_000,
  finalServingMs: 5_000,
  resolveMs: 120_000,
  runMsMax: 14 * 60_000,
  policy: POLICY,
};
