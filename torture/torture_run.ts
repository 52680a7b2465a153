/**
 * One torture run, start to verdict: set up a bank, let the ATMs loose, SIGKILL and restart the
 * bank again and again, stop, settle every operation left in doubt, and check the ledger and the
 * audit log against what the ATMs were told.
 *
 * @module
 */

import { type AuditVerdict, checkAuditLog } from "./audit_check.ts";
import { type BankRun, spawnBank, startBank } from "./bank_runner.ts";
import { setUpTortureBank, tortureCustomers } from "./bank_setup.ts";
import type { TortureConfig } from "./config.ts";
import { History, historyFigures, type RunFigures } from "./history.ts";
import { ledgerOf } from "./hostile_bank.ts";
import { checkLedger, type LedgerVerdict } from "./ledger_check.ts";
import { SeededRandom } from "./random.ts";
import { TortureAtm } from "./torture_atm.ts";

/** Everything a run found. */
export interface TortureReport {
  config: TortureConfig;
  seed: number;
  dataDir: string;
  figures: RunFigures;
  /**
   * Operations settled at the end from the bank's answer to their own request id: those the bank
   * had already applied before the answer was lost, those it applied only now, those it refused.
   */
  resolvedAtEnd: { alreadyApplied: number; appliedNow: number; refused: number };
  ledger: LedgerVerdict;
  audit: AuditVerdict;
  /** Problems outside the ledger and the log: crashes, a failed clean stop. */
  processProblems: string[];
  /** Wall time of the whole run. */
  seconds: number;
}

/** Progress lines while the run goes; the report comes at the end. */
export type Say = (line: string) => void;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The bank process across its restarts, as the ATMs and the killer see it. */
class BankUnderTest {
  readonly runs: BankRun[] = [];
  #current: BankRun | null = null;
  #port: number | null = null;

  constructor(readonly dataDir: string) {}

  /** Where ATMs connect now; null while the bank is down. */
  port(): number | null {
    return this.#port;
  }

  async start(): Promise<void> {
    const run = await startBank({ dataDir: this.dataDir });
    this.runs.push(run);
    this.#current = run;
    this.#port = run.port;
  }

  /** Starts a new process without waiting for it to listen. */
  spawn(): BankRun {
    const run = spawnBank({ dataDir: this.dataDir });
    this.runs.push(run);
    this.#current = run;
    return run;
  }

  /** Waits for the process just spawned and publishes its port. */
  async listening(): Promise<void> {
    this.#port = await this.#current!.listening();
  }

  /**
   * SIGKILLs the current process.
   *
   * @returns A problem when the process had already ended by itself.
   */
  async kill(): Promise<string | null> {
    const run = this.#current!;
    this.#port = null;
    const ended = run.status;
    await run.kill();
    if (ended !== null) return `bank exited by itself with ${ended.code}:\n${run.logTail()}`;
    return null;
  }

  async stop(): Promise<number> {
    this.#port = null;
    return await this.#current!.stop();
  }

  /** Kills whatever still runs (after a failure). */
  async cleanUp(): Promise<void> {
    for (const run of this.runs) if (run.running) await run.kill();
  }
}

/**
 * SIGKILLs the bank `config.kills` times at random moments and restarts it each time; some
 * restarts are killed again straight away, while the bank recovers or before it listens.
 */
async function killRepeatedly(
  bank: BankUnderTest,
  config: TortureConfig,
  random: SeededRandom,
  problems: string[],
  say: Say,
): Promise<number> {
  const outages = new Set<number>();
  while (outages.size < Math.min(config.outages, config.kills)) {
    outages.add(random.integer(1, config.kills));
  }
  let kills = 0;
  const killAndRespawn = async () => {
    const problem = await bank.kill();
    if (problem !== null) problems.push(problem);
    kills++;
    if (outages.has(kills)) {
      say(`torture: kill ${kills}: the bank stays down for ${config.outageMs} ms`);
      await sleep(config.outageMs);
    }
    bank.spawn();
  };
  while (kills < config.kills) {
    await sleep(random.integer(config.servingMsMin, config.servingMsMax));
    await killAndRespawn();
    while (kills < config.kills && random.next() < config.earlyKillChance) {
      await sleep(random.integer(0, config.earlyKillMsMax));
      say(`torture: kill ${kills + 1}: while the restarted bank starts`);
      await killAndRespawn();
    }
    await bank.listening();
    say(`torture: kill ${kills}/${config.kills} done, bank listening on ${bank.port()}`);
  }
  return kills;
}

/**
 * Runs the whole torture.
 *
 * @param config Its size.
 * @param options Seed, where to keep the data directory, and where progress lines go.
 * @returns The report; the run passed when every problem list in it is empty and lost is 0.
 */
export async function runTorture(
  config: TortureConfig,
  options: { seed: number; dataDir?: string; say: Say },
): Promise<TortureReport> {
  const started = performance.now();
  const { say } = options;
  const random = new SeededRandom(options.seed);
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "torture-" });
  const customers = tortureCustomers(config.customers, config.openingCents);
  say(`torture: setting up ${config.customers} customers and ${config.atms} ATMs in ${dataDir}`);
  const setup = await setUpTortureBank(dataDir, { customers, atms: config.atms });
  const bank = new BankUnderTest(dataDir);
  const history = new History();
  const processProblems: string[] = [];
  let stopping = false;
  const atms = setup.atms.map((spec) =>
    new TortureAtm(spec, {
      bank,
      history,
      random: random.fork(),
      policy: config.policy,
      recipients: customers.map((c) => c.name),
    })
  );
  let kills = 0;
  try {
    await bank.start();
    say(`torture: bank listening on ${bank.port()}; ${config.atms} ATMs start`);
    const running = atms.map((atm) => atm.run(() => stopping));
    // An ATM that throws (its login refused) must not leave the others running forever.
    const atmsDone = Promise.all(running).finally(() => stopping = true);
    atmsDone.catch(() => {});
    kills = await killRepeatedly(bank, config, random, processProblems, say);
    await sleep(config.finalServingMs);
    stopping = true;
    await atmsDone;
    const deadline = performance.now() + config.resolveMs;
    await Promise.all(atms.map((atm) => atm.resolveInDoubt(deadline)));
    await Promise.all(atms.map((atm) => atm.close()));
    const code = await bank.stop();
    if (code !== 0) processProblems.push(`bank did not stop cleanly: exit ${code}`);
  } finally {
    stopping = true;
    await Promise.all(atms.map((atm) => atm.close()));
    await bank.cleanUp();
  }
  for (const run of bank.runs) {
    for (const line of run.crashLines) processProblems.push(`bank log: ${line}`);
  }
  say(`torture: ${bank.runs.length} bank processes in all; checking the ledger and the audit log`);
  const snapshot = await ledgerOf(dataDir);
  const openings = new Map(customers.map((c) => [c.name, c.openingCents]));
  const ledger = checkLedger(history.ops, openings, snapshot);
  const audit = await checkAuditLog(dataDir, snapshot.entries);
  const counted = historyFigures(history.ops);
  const resolvedAtEnd = { alreadyApplied: 0, appliedNow: 0, refused: 0 };
  for (const { outcome } of history.ops) {
    if (outcome.status === "ok" && outcome.resolvedAtEnd) {
      if (outcome.replayed) resolvedAtEnd.alreadyApplied++;
      else resolvedAtEnd.appliedNow++;
    }
    if (outcome.status === "refused" && outcome.resolvedAtEnd) resolvedAtEnd.refused++;
  }
  return {
    config,
    seed: options.seed,
    dataDir,
    figures: { ...counted, kills, lost: ledger.lost, duplicated: ledger.duplicated },
    resolvedAtEnd,
    ledger,
    audit,
    processProblems,
    seconds: (performance.now() - started) / 1000,
  };
}
