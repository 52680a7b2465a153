/**
 * Durable transactions per second: logged-in ATMs send the mix, 50% balance, 25%
 * deposit, 20% withdraw and 5% transfer, one request in flight per ATM. A money operation is
 * answered only after its ledger entry and audit record are fsynced (group commit), so every
 * answered deposit, withdrawal and transfer is durable.
 *
 * @module
 */

import type { AtmSession, BenchRequest } from "../atm_session.ts";
import { type ClosedLoopResult, runClosedLoop } from "../closed_loop.ts";
import type { Window } from "./channel.ts";

/** One slot of the mix: 20 slots give the percentages exactly. */
type MixSlot = "balance" | "deposit" | "withdraw" | "transfer";

/** 10 balance, 5 deposit, 4 withdraw, 1 transfer, interleaved. */
export const MIX: readonly MixSlot[] = [
  "balance",
  "deposit",
  "balance",
  "withdraw",
  "balance",
  "deposit",
  "balance",
  "withdraw",
  "balance",
  "deposit",
  "balance",
  "transfer",
  "balance",
  "deposit",
  "balance",
  "withdraw",
  "balance",
  "deposit",
  "balance",
  "withdraw",
];

/** Amounts per operation; deposits outweigh withdrawals, so no balance ever runs out. */
const DEPOSIT_AMOUNT = "1.00";
const WITHDRAW_AMOUNT = "0.50";
const TRANSFER_AMOUNT = "0.25";

/**
 * The request for one mix slot.
 *
 * @param slot The operation.
 * @param transferTo The customer a transfer goes to.
 * @returns The request.
 */
export function mixRequest(slot: MixSlot, transferTo: string): BenchRequest {
  switch (slot) {
    case "balance":
      return { op: "balance" };
    case "deposit":
      return { op: "deposit", amount: DEPOSIT_AMOUNT };
    case "withdraw":
      return { op: "withdraw", amount: WITHDRAW_AMOUNT };
    case "transfer":
      return { op: "transfer", to: transferTo, amount: TRANSFER_AMOUNT };
  }
}

/**
 * Runs the mix on every session and measures it. Each ATM starts at a different place in the
 * mix so the ATMs do not move in lockstep; a transfer goes to the next provisioned customer.
 *
 * @param sessions Logged-in sessions, one per ATM.
 * @param window Warm-up and measured time.
 * @returns Requests answered per second (every one succeeded) and their latency.
 */
export function measureTransactions(
  sessions: readonly AtmSession[],
  window: Window,
): Promise<ClosedLoopResult> {
  const counters = sessions.map((_, i) => i * 7);
  return runClosedLoop({
    workers: sessions.length,
    ...window,
    operation: async (index) => {
      const session = sessions[index];
      const slot = MIX[counters[index]++ % MIX.length];
      await session.expectOk(mixRequest(slot, session.atm.peer));
    },
  });
}
