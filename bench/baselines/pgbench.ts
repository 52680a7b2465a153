/**
 * PostgreSQL's own benchmark as a baseline: `pgbench`'s built-in TPC-B-like script against the
 * local PostgreSQL (127.0.0.1:5432), with as many clients as the bank has ATMs. Skipped with a
 * note when pgbench is not installed, no server answers, or a client count is above what the
 * server allows.
 *
 * @module
 */

/** The database pgbench fills; created when missing, re-initialised every run. */
const PGBENCH_DATABASE = "bank_bench_pgbench";

/** Where the local PostgreSQL listens. */
const PG_HOST = "127.0.0.1";
const PG_PORT = "5432";

/** How to get pgbench on Debian. */
export const PGBENCH_INSTALL_HINT =
  "pgbench ships with the PostgreSQL server packages: apt-get install postgresql " +
  "(postgresql-contrib on older releases), then start it with pg_ctlcluster";

/** One pgbench run. */
export interface PgbenchRun {
  clients: number;
  /** Clients pgbench actually ran with, when the server had too few free connections. */
  ranWith?: number;
  tps?: number;
  latencyAvgMs?: number;
  /** Why there is no figure. */
  skipped?: string;
}

/** All pgbench runs of one benchmark. */
export interface PgbenchResult {
  version?: string;
  scale: number;
  seconds: number;
  runs: PgbenchRun[];
  /** Why nothing ran at all. */
  skipped?: string;
}

async function run(
  program: string,
  args: string[],
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const output = await new Deno.Command(program, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { PGCONNECT_TIMEOUT: "5" },
  }).output();
  const decoder = new TextDecoder();
  return {
    ok: output.success,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

const CONNECTION = ["-h", PG_HOST, "-p", PG_PORT];

async function psql(database: string, sql: string) {
  return await run("psql", [...CONNECTION, "-d", database, "-Atc", sql]);
}

/**
 * Finds pgbench and a running server, prepares the database, and runs the TPC-B-like script
 * once per client count.
 *
 * @param clientCounts Client counts, as the bank's ATM counts.
 * @param options TPC-B scale factor and seconds per run.
 * @returns The runs, or why they were skipped.
 */
export async function runPgbench(
  clientCounts: readonly number[],
  options: { scale: number; seconds: number },
): Promise<PgbenchResult> {
  const result: PgbenchResult = { scale: options.scale, seconds: options.seconds, runs: [] };
  try {
    result.version = (await run("pgbench", ["--version"])).stdout.trim();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    result.skipped = `pgbench is not installed. ${PGBENCH_INSTALL_HINT}`;
    return result;
  }
  const limit = await psql("postgres", "SHOW max_connections");
  if (!limit.ok) {
    result.skipped = `no PostgreSQL answers on ${PG_HOST}:${PG_PORT}: ${limit.stderr.trim()}`;
    return result;
  }
  const connectionsMax = Number(limit.stdout.trim());
  const exists = await psql(
    "postgres",
    `SELECT 1 FROM pg_database WHERE datname = '${PGBENCH_DATABASE}'`,
  );
  if (exists.stdout.trim() !== "1") {
    const created = await psql("postgres", `CREATE DATABASE ${PGBENCH_DATABASE}`);
    if (!created.ok) {
      result.skipped = `cannot create database ${PGBENCH_DATABASE}: ${created.stderr.trim()}`;
      return result;
    }
  }
  const init = await run("pgbench", [
    ...CONNECTION,
    "-i",
    "-q",
    "-s",
    String(options.scale),
    PGBENCH_DATABASE,
  ]);
  if (!init.ok) {
    result.skipped = `pgbench -i failed: ${init.stderr.trim().split("\n").pop()}`;
    return result;
  }
  for (const clients of clientCounts) {
    if (clients > connectionsMax) {
      result.runs.push({
        clients,
        skipped: `the server allows ${connectionsMax} connections (max_connections)`,
      });
      continue;
    }
    let run = await runOnce(clients, options.seconds);
    if (run.skipped !== undefined) {
      // Other users of the server hold connections: run with what is free, and say so.
      const busy = await psql(
        "postgres",
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'",
      );
      const free = connectionsMax - Number(busy.stdout.trim()) - 1;
      if (busy.ok && free > 0 && free < clients) {
        const retry = await runOnce(free, options.seconds);
        if (retry.skipped === undefined) run = { ...retry, clients, ranWith: free };
      }
    }
    result.runs.push(run);
  }
  return result;
}

async function runOnce(clients: number, seconds: number): Promise<PgbenchRun> {
  const threads = Math.min(clients, navigator.hardwareConcurrency);
  const output = await run("pgbench", [
    ...CONNECTION,
    "-n",
    "-c",
    String(clients),
    "-j",
    String(threads),
    "-T",
    String(seconds),
    PGBENCH_DATABASE,
  ]);
  const tps = output.stdout.match(/tps = ([\d.]+) \(without initial connection time\)/);
  const latency = output.stdout.match(/latency average = ([\d.]+) ms/);
  if (!output.ok || !tps) {
    const reason = (output.stderr.trim() || output.stdout.trim()).split("\n").pop();
    return { clients, skipped: `pgbench failed: ${reason}` };
  }
  return {
    clients,
    tps: Number(tps[1]),
    latencyAvgMs: latency ? Number(latency[1]) : undefined,
  };
}
