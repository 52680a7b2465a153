/**
 * Test support for the hostile-input and credential tests: a real bank process on a prepared data
 * directory, real ATMs (`atm/bank_client.ts`) to measure service during an attack, and the checks
 * every such test ends with: the bank never crashed, stops cleanly, and its ledger is exactly
 * what it was plus what the real ATMs were told.
 *
 * @module
 */

import { BankClient } from "../atm/bank_client.ts";
import { readCredential } from "../lib/mod.ts";
import { openSqliteStore } from "../server/ledger/sqlite_store.ts";
import { type BankRun, startBank } from "./bank_runner.ts";
import { setUpTortureBank, type TortureBank, tortureCustomers } from "./bank_setup.ts";
import { type LedgerSnapshot, readLedgerSnapshot } from "./ledger_check.ts";

/** Open-file limit given to the bank in these tests, so 5,000 connections fit on any machine. */
export const HOSTILE_BANK_OPEN_FILES = 16_384;

/** Opening balance of each test customer. */
export const OPENING_CENTS = 100_000;

/** A bank under attack, with what the test needs to reach it. */
export interface HostileBank {
  run: BankRun;
  setup: TortureBank;
  port: number;
}

/**
 * Reads the ledger of a data directory (the bank may be running: SQLite readers do not block it).
 *
 * @param dataDir The data directory.
 * @returns The snapshot.
 */
export async function ledgerOf(dataDir: string): Promise<LedgerSnapshot> {
  const store = await openSqliteStore(`${dataDir}/ledger.sqlite`);
  try {
    return await readLedgerSnapshot(store);
  } finally {
    await store.close();
  }
}

/**
 * Sets up customers and ATM credentials, starts the bank with `args`, runs `work`, then checks
 * that the bank is still running, logged nothing that looks like a crash, stops with exit 0 and
 * passes the ledger's invariant check.
 *
 * @param options Customers, ATMs, extra `serve` flags and the bank's open-file limit.
 * @param work The test body.
 */
export async function withHostileBank(
  options: { customers?: number; atms?: number; args?: string[]; openFilesMax?: number },
  work: (bank: HostileBank) => Promise<void>,
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "hostile-" });
  try {
    const setup = await setUpTortureBank(dataDir, {
      customers: tortureCustomers(options.customers ?? 3, OPENING_CENTS),
      atms: options.atms ?? 3,
    });
    const run = await startBank({
      dataDir,
      args: options.args,
      openFilesMax: options.openFilesMax ?? HOSTILE_BANK_OPEN_FILES,
    });
    let failure: unknown = null;
    try {
      await work({ run, setup, port: run.port! });
      if (!run.running) throw new Error(`the bank died during the test:\n${run.logTail()}`);
      if (run.crashLines.length > 0) {
        throw new Error(`the bank logged a crash:\n${run.crashLines.join("\n")}`);
      }
    } catch (error) {
      failure = error;
    }
    const code = await run.stop();
    if (failure !== null) throw failure;
    if (code !== 0) throw new Error(`the bank stopped with exit ${code}:\n${run.logTail()}`);
    const ledger = await ledgerOf(dataDir);
    if (ledger.invariantProblems.length > 0) {
      throw new Error(`ledger invariants: ${ledger.invariantProblems.join("; ")}`);
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

/**
 * A real ATM (the `atm` command's BankClient) logged in as the customer of test ATM `index`.
 *
 * @param bank The bank.
 * @param index Which prepared ATM.
 * @returns The logged-in client; close it when done.
 */
export async function realAtm(bank: HostileBank, index: number): Promise<BankClient> {
  const spec = bank.setup.atms[index];
  const { atmId, psk } = await readCredential(spec.credentialPath);
  const client = new BankClient({ atmId, psk, servers: [`127.0.0.1:${bank.port}`] });
  await client.login(spec.customer.name, spec.customer.pin);
  return client;
}

/**
 * The value below which `fraction` of the samples lie (nearest rank).
 *
 * @param samples Measurements, any order.
 * @param fraction 0.5 for the median, 0.99 for p99.
 * @returns The percentile, or NaN without samples.
 */
export function percentile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(fraction * sorted.length)));
  return sorted[rank - 1];
}

/**
 * Samples a process's resident memory every `intervalMs` until stopped.
 *
 * @param run The bank process.
 * @param intervalMs Sampling interval.
 * @returns A handle whose `stop()` gives the peak in bytes.
 */
export function sampleMemory(run: BankRun, intervalMs = 200): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, (await run.residentBytes()) ?? 0);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

/**
 * Reads from a connection until the peer closes it (EOF or reset) or `timeoutMs` passes.
 *
 * @param conn The connection; closed afterwards.
 * @param timeoutMs How long to wait.
 * @returns "closed" when the peer closed it, "open" when it was still open at the timeout.
 */
export async function waitForClose(conn: Deno.Conn, timeoutMs: number): Promise<"closed" | "open"> {
  const buffer = new Uint8Array(4096);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"open">((resolve) =>
    timer = setTimeout(() => resolve("open"), timeoutMs)
  );
  const reading = (async (): Promise<"closed"> => {
    try {
      while (await conn.read(buffer) !== null) { /* drain whatever the bank still sends */ }
    } catch { /* a reset closes too */ }
    return "closed";
  })();
  const result = await Promise.race([reading, late]);
  clearTimeout(timer);
  try {
    conn.close();
  } catch { /* already closed */ }
  await reading;
  return result;
}
