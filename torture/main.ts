/**
 * `deno task torture [--quick] [--seed N] [--keep]`: the bank-invariant torture run. Many ATMs
 * run random deposits, withdrawals and transfers with retries under their request ids while the
 * bank is SIGKILLed at random moments and restarted; at the end the ledger and the audit log are
 * checked against what the ATMs were told, and the figures end the output.
 *
 * Exit status 0 when every check passed and nothing was lost, 1 otherwise, 2 on a bad flag.
 *
 * @module
 */

import { Command, CommanderError, InvalidArgumentError } from "commander";
import { formatCents } from "../lib/amount.ts";
import { killLiveBanks } from "./bank_runner.ts";
import { FULL, QUICK } from "./config.ts";
import { runTorture, type TortureReport } from "./torture_run.ts";

function seedArgument(value: string): number {
  if (!/^[0-9]{1,10}$/.test(value) || Number(value) > 0xffffffff) {
    throw new InvalidArgumentError(`expected a whole number up to 4294967295, got ${value}`);
  }
  return Number(value);
}

function check(name: string, problems: readonly string[]): string[] {
  if (problems.length === 0) return [`  ok    ${name}`];
  return [`  FAIL  ${name}`, ...problems.map((problem) => `          ${problem}`)];
}

/**
 * The report as printed: the checks first, the figures last.
 *
 * @param report A finished run.
 * @returns The lines, and whether the run passed.
 */
export function formatReport(report: TortureReport): { lines: string[]; passed: boolean } {
  const { ledger, audit, figures } = report;
  const resolved = report.resolvedAtEnd;
  const money = ledger.ledgerTotalCents === ledger.expectedTotalCents ? [] : [
    `customers hold ${formatCents(ledger.ledgerTotalCents)}, expected ` +
    formatCents(ledger.expectedTotalCents),
  ];
  const ledgerProblems = ledger.problems.filter((p) => !p.startsWith("money:"));
  const processProblems = report.processProblems;
  const lines = [
    "",
    `torture ${report.config.mode}: seed ${report.seed}, ${report.config.atms} ATMs, ` +
    `${report.config.customers} customers, ${report.seconds.toFixed(0)} s, data ${report.dataDir}`,
    "checks:",
    ...check(
      `total money ${formatCents(ledger.ledgerTotalCents)} = opening balances + acknowledged ` +
        `deposits - acknowledged withdrawals`,
      money,
    ),
    ...check(
      "every acknowledged transaction is in the ledger exactly once, with the balance the ATM " +
        "was told; nothing refused or unknown was applied",
      ledgerProblems.filter((p) => !p.startsWith("invariant:") && !p.startsWith("negative:")),
    ),
    ...check(
      "no balance is negative and the double-entry check holds",
      ledgerProblems.filter((p) => p.startsWith("invariant:") || p.startsWith("negative:")),
    ),
    ...check(
      `bank audit --verify passes (${audit.records} records)`,
      audit.verifyCode === 0 ? [] : [audit.verifySummary],
    ),
    ...check(
      `the log holds exactly one record for each of the ${audit.committedRecords} committed ` +
        "transactions",
      audit.problems.filter((p) => p.startsWith("audit ")),
    ),
    ...check("the bank never crashed by itself and stopped cleanly", processProblems),
    "figures:",
    `  operations: ${figures.operations}`,
    `  kills: ${figures.kills}`,
    `  acknowledged: ${figures.acknowledged}`,
    `  refused: ${figures.refused}`,
    `  retried: ${figures.retried} (resends: ${figures.resends})`,
    `  in doubt: ${figures.inDoubt} (resolved at the end by request id: ` +
    `${resolved.alreadyApplied} already applied, ${resolved.appliedNow} applied now, ` +
    `${resolved.refused} refused)`,
    `  duplicated: ${figures.duplicated}`,
    `  lost: ${figures.lost}`,
  ];
  const passed = ledger.problems.length === 0 && audit.problems.length === 0 &&
    processProblems.length === 0 && figures.lost === 0 && figures.duplicated === 0 &&
    figures.kills === report.config.kills;
  lines.push(passed ? "torture: PASSED" : "torture: FAILED");
  return { lines, passed };
}

/**
 * Runs the command line.
 *
 * @param args The arguments after the program name.
 * @returns The exit status.
 */
export async function main(args: string[]): Promise<number> {
  const program = new Command("torture")
    .description("SIGKILL the bank under load from many ATMs and check that nothing was lost")
    .option("--quick", "the small run CI uses (under 2 minutes)")
    .option("--seed <n>", "seed of the random choices, to repeat a run", seedArgument)
    .option("--keep", "keep the data directory afterwards (it is printed)")
    .exitOverride();
  try {
    program.parse(args, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  const flags = program.opts<{ quick?: boolean; seed?: number; keep?: boolean }>();
  const config = flags.quick ? QUICK : FULL;
  const seed = flags.seed ?? crypto.getRandomValues(new Uint32Array(1))[0];
  const say = (line: string) => console.log(line);
  say(`torture: ${config.mode} run, seed ${seed} (repeat it with --seed ${seed})`);
  const watchdog = setTimeout(async () => {
    console.log(`torture: FAILED: the run took longer than ${config.runMsMax / 1000} s`);
    await killLiveBanks();
    Deno.exit(1);
  }, config.runMsMax);
  let report: TortureReport;
  try {
    report = await runTorture(config, { seed, say });
  } catch (error) {
    console.log(`torture: FAILED: ${error instanceof Error ? error.stack : String(error)}`);
    return 1;
  } finally {
    clearTimeout(watchdog);
  }
  const { lines, passed } = formatReport(report);
  if (passed && !flags.keep) await Deno.remove(report.dataDir, { recursive: true });
  for (const line of lines) console.log(line);
  return passed ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
