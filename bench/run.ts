/**
 * One benchmark run, step by step: provision, start the bank, measure each figure and its
 * baseline next to each other, and stop everything. Progress goes to stderr; the results are
 * returned for the report.
 *
 * @module
 */

import { encodeMessage } from "../lib/messages.ts";
import { formatCents } from "../lib/amount.ts";
import { type MessageSizes, parseTlsStats, startTlsServer } from "./baselines/mutual_tls.ts";
import { measureTlsHandshakes, measureTlsRoundTrips } from "./baselines/mutual_tls.ts";
import { runPgbench } from "./baselines/pgbench.ts";
import { measureFsyncCeiling } from "./baselines/sqlite_fsync.ts";
import { makeTlsMaterial, type TlsMaterial } from "./baselines/tls_certs.ts";
import { type BankServer, startBankServer } from "./bank_server.ts";
import { REPO_ROOT } from "./child.ts";
import { withCpu } from "./cpu.ts";
import { type BenchConfig, OPENING_CENTS } from "./config.ts";
import type { MachineInfo } from "./machine.ts";
import { type BenchAtm, provisionAtms } from "./provision.ts";
import type { BenchResults } from "./results_model.ts";
import { closeSessions, openLoggedInSessions } from "./session_pool.ts";
import { measureAuditLog } from "./workloads/audit_log.ts";
import { measureBankHandshakes, measureBankRoundTrips, type Window } from "./workloads/channel.ts";
import { measureIdleSessions } from "./workloads/idle_sessions.ts";
import { measureTransactions } from "./workloads/transactions.ts";

/** Open files the bench process needs besides its sessions (bank, pipes, files). */
const FILES_SPARE = 200;

/** When each step began, for the report: where the run's time goes. */
const steps: { step: string; startedSecond: number }[] = [];
let runStarted = performance.now();

function progress(text: string): void {
  console.error(`bench: ${text}`);
  steps.push({
    step: text,
    startedSecond: Math.round((performance.now() - runStarted) / 100) / 10,
  });
}

/** The sizes of a balance request and its answer, as the ATMs send them. */
function balanceMessageSizes(): MessageSizes {
  const id = "abcdefg-100000";
  return {
    requestBytes: encodeMessage({ id, op: "balance" }).length,
    responseBytes: encodeMessage({
      id,
      ok: true,
      op: "balance",
      balance: formatCents(OPENING_CENTS),
    }).length,
  };
}

/** What the channel phase measured. */
type ChannelResults = Pick<BenchResults, "handshakes" | "roundTrips" | "transactions">;

/** Everything the channel phase works with. */
interface ChannelSetup {
  config: BenchConfig;
  bank: BankServer;
  atms: BenchAtm[];
  tls: TlsMaterial;
  tlsPort: number;
  tlsPid: number;
  sizes: MessageSizes;
}

function windowOf(config: BenchConfig, measureMs: number): Window {
  return { warmupMs: config.warmupMs, measureMs };
}

async function measureHandshakes(setup: ChannelSetup) {
  const { config, bank, atms, tls, tlsPort, sizes } = setup;
  const concurrency = config.handshakeConcurrency;
  const window = windowOf(config, config.handshakeMs);
  progress(`handshakes, ${concurrency} at once: bank, then mutual TLS`);
  const bankResult = await withCpu(
    bank.child.pid,
    () => measureBankHandshakes(bank.port, atms, concurrency, window),
  );
  const tlsResult = await withCpu(
    setup.tlsPid,
    () => measureTlsHandshakes(tlsPort, tls, sizes, concurrency, window),
  );
  return { concurrency, bank: bankResult, tls: tlsResult };
}

async function measureWithSessions(
  setup: ChannelSetup,
): Promise<Pick<BenchResults, "roundTrips" | "transactions">> {
  const { config, bank, atms, tls, tlsPort, sizes } = setup;
  const sessionCount = Math.max(...config.roundTripLevels, ...config.transactionLevels);
  progress(`opening and logging in ${sessionCount} ATM sessions`);
  const sessions = await openLoggedInSessions(bank.port, atms.slice(0, sessionCount));
  try {
    const roundTrips = [];
    const rtWindow = windowOf(config, config.roundTripMs);
    for (const level of config.roundTripLevels) {
      progress(`round trips, ${level} ATMs: bank, then mutual TLS`);
      const bankResult = await withCpu(
        bank.child.pid,
        () => measureBankRoundTrips(sessions.slice(0, level), rtWindow),
      );
      const tlsResult = await withCpu(
        setup.tlsPid,
        () => measureTlsRoundTrips(tlsPort, tls, sizes, level, rtWindow),
      );
      roundTrips.push({ atms: level, bank: bankResult, tls: tlsResult });
    }
    const transactions = [];
    const txWindow = windowOf(config, config.transactionMs);
    for (const level of config.transactionLevels) {
      progress(`durable transactions, ${level} ATMs`);
      const result = await withCpu(
        bank.child.pid,
        () => measureTransactions(sessions.slice(0, level), txWindow),
      );
      transactions.push({ atms: level, bank: result });
    }
    return { roundTrips, transactions };
  } finally {
    await closeSessions(sessions);
  }
}

async function measureChannelAndTransactions(
  setup: Omit<ChannelSetup, "tlsPort" | "tlsPid">,
): Promise<ChannelResults> {
  const tlsServer = await startTlsServer(setup.tls, setup.sizes);
  let handshakes;
  let withSessions;
  try {
    const full = { ...setup, tlsPort: tlsServer.port, tlsPid: tlsServer.child.pid };
    handshakes = await measureHandshakes(full);
    withSessions = await measureWithSessions(full);
  } finally {
    await tlsServer.child.stop();
  }
  const tlsSessions = parseTlsStats(tlsServer.child.tail());
  return { handshakes: { ...handshakes, tlsSessions }, ...withSessions };
}

async function checkBankAudit(dataDir: string): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-P=bank", "server/main.ts", "audit", "--data", dataDir, "--verify"],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const records = text.match(/^records\s+(\d+)/m)?.[1] ?? "?";
  const result = text.match(/^result\s+(.+)$/m)?.[1] ?? "no result line";
  return output.success
    ? `bank audit --verify after the load: ${result}, ${records} records`
    : `bank audit --verify after the load FAILED (exit ${output.code}): ${result}`;
}

async function measureIdle(
  config: BenchConfig,
  machine: MachineInfo,
  dataDir: string,
  atms: BenchAtm[],
  notes: string[],
): Promise<BenchResults["idleSessions"]> {
  const limit = machine.openFilesLimit;
  let count = config.idleSessions;
  if (limit !== null && limit < count + FILES_SPARE) {
    count = Math.max(0, limit - FILES_SPARE);
    notes.push(
      `open-file limit ${limit} allows only ${count} idle sessions, not ${config.idleSessions}: ` +
        `run \`ulimit -n ${config.idleSessions + 2 * FILES_SPARE}\` first`,
    );
    if (count < 100) return { skipped: `open-file limit ${limit} is too low` };
  }
  progress(`memory with ${count} idle sessions (fresh bank process)`);
  const bank = await startBankServer(dataDir);
  try {
    return await measureIdleSessions(bank, atms, count, config.idleSettleMs);
  } finally {
    await bank.stop();
  }
}

/**
 * Runs every measurement of one configuration.
 *
 * @param config Sizes and durations.
 * @param machine The machine, as described at the start.
 * @param resultsDir Where the scratch directory is made (removed at the end).
 * @returns Everything measured.
 */
export async function runBenchmark(
  config: BenchConfig,
  machine: MachineInfo,
  resultsDir: string,
): Promise<BenchResults> {
  const startedAt = new Date();
  runStarted = performance.now();
  steps.length = 0;
  await Deno.mkdir(resultsDir, { recursive: true });
  const scratch = await Deno.makeTempDir({ dir: resultsDir, prefix: "scratch-", suffix: ".tmp" });
  const notes: string[] = [];
  try {
    const dataDir = `${scratch}/bank`;
    const certDir = `${scratch}/tls`;
    await Deno.mkdir(certDir);
    const tls = await makeTlsMaterial(certDir);
    const atmCount = Math.max(...config.roundTripLevels, ...config.transactionLevels);
    progress(`provisioning ${atmCount} customers and ATM credentials`);
    const atms = await provisionAtms(dataDir, atmCount);
    const sizes = balanceMessageSizes();

    const bank = await startBankServer(dataDir);
    let channel: ChannelResults;
    try {
      channel = await measureChannelAndTransactions({ config, bank, atms, tls, sizes });
    } finally {
      const code = await bank.stop();
      if (code !== 0) notes.push(`the bank exited with code ${code} after the load`);
      for (const line of bank.warnings().slice(0, 5)) notes.push(`bank warning: ${line}`);
    }
    const bankAuditCheck = await checkBankAudit(dataDir);
    progress(bankAuditCheck);

    progress("fsync ceiling: one-row SQLite transactions, synchronous=FULL");
    const fsyncCeiling = measureFsyncCeiling(scratch, config.fsyncMs);
    progress("pgbench TPC-B-like runs");
    const pgbench = await runPgbench(config.transactionLevels, {
      scale: config.pgbenchScale,
      seconds: config.pgbenchSeconds,
    });
    if (pgbench.skipped) notes.push(`pgbench skipped: ${pgbench.skipped}`);

    const idleSessions = await measureIdle(config, machine, dataDir, atms, notes);
    progress(`audit log of ${config.auditRecords} records: generate, verify, decrypt, plaintext`);
    const audit = await measureAuditLog(
      `${scratch}/audit`,
      `${scratch}/audit.jsonl`,
      config.auditRecords,
    );
    const finishedAt = new Date();
    return {
      mode: config.mode,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      seconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
      machine,
      loadAverageEnd: Deno.loadavg(),
      messageSizes: sizes,
      ...channel,
      fsyncCeiling,
      pgbench,
      idleSessions,
      audit,
      bankAuditCheck,
      notes,
      steps: [...steps],
    };
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}
