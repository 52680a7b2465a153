/**
 * `deno task bench:servers [--quick]` (`deno run -P=test bench/multi_server.ts`): durable
 * transactions per second with 1, 2 and 3 bank servers on one PostgreSQL ledger. For each count it
 * makes a fresh database on the local PostgreSQL (`bank migrate`), provisions the ATMs and
 * customers in it through the same code as `bank customer add` and `bank atm add`, copies the bank
 * key into every server's data directory, starts the servers as real `bank serve --db` processes,
 * spreads logged-in ATMs over them round-robin, and runs the same mix and closed loop as `deno task
 * bench`. The database and data directories are removed afterwards.
 *
 * Every server, the ATMs and PostgreSQL share this machine's cores, so the figure says what
 * several servers cost or gain here, not what they would on separate machines.
 *
 * @module
 */

import { hashPin } from "../server/auth/pin_hash.ts";
import { createAtm } from "../server/commands/atm_command.ts";
import { withBankFiles } from "../server/commands/open_bank_files.ts";
import { migratePostgres } from "../server/ledger/postgres_schema.ts";
import { createTestDatabase, probePostgres } from "../server/testing/postgres_db.ts";
import { readCredential } from "../lib/mod.ts";
import type { AtmSession } from "./atm_session.ts";
import { type Child, startChild } from "./child.ts";
import { BENCH_PIN, OPENING_CENTS } from "./config.ts";
import { type BenchAtm, customerName } from "./provision.ts";
import { closeSessions, openLoggedInSessions } from "./session_pool.ts";
import { measureTransactions } from "./workloads/transactions.ts";

/** Server counts measured. */
const SERVER_COUNTS = [1, 2, 3] as const;

/** Sizes of one run. */
interface MultiServerConfig {
  /** Logged-in ATMs, spread over the servers. */
  atms: number;
  warmupMs: number;
  measureMs: number;
}

const FULL: MultiServerConfig = { atms: 100, warmupMs: 2_000, measureMs: 10_000 };
const QUICK: MultiServerConfig = { atms: 30, warmupMs: 500, measureMs: 2_000 };

/** One measured server count. */
interface MultiServerRow {
  servers: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  /** Journal entries each server committed during the whole run. */
  entriesByServer: number[];
}

async function provision(dataDir: string, db: string, count: number): Promise<BenchAtm[]> {
  return await withBankFiles(dataDir, async (files) => {
    const pin = await hashPin(BENCH_PIN, files.dataDir.secrets.pinPepper);
    const atms: BenchAtm[] = [];
    for (let i = 0; i < count; i++) {
      const customer = customerName(i);
      await files.store.addCustomer({ name: customer, pin, openingCents: OPENING_CENTS });
      const atmId = `atm-${String(i).padStart(5, "0")}`;
      const out = `${files.dataDir.paths.atms}/${atmId}.json`;
      await createAtm(files, { id: atmId, out, servers: ["127.0.0.1:4000"] });
      const credential = await readCredential(out);
      atms.push({ atmId, psk: credential.psk, customer, peer: customerName((i + 1) % count) });
    }
    return atms;
  }, { db });
}

function startServer(dataDir: string, db: string, serverId: string): Promise<Child> {
  return startChild({
    args: ["run", "--quiet", "-P=bank", "server/main.ts", "serve", "--data", dataDir, "--port"]
      .concat(["0", "--console-port", "0", "--db", db, "--server-id", serverId]),
    readyPattern: /listening address=\S*:(\d+)/,
  });
}

async function measure(
  adminUrl: string,
  servers: number,
  config: MultiServerConfig,
): Promise<MultiServerRow> {
  const database = await createTestDatabase(adminUrl);
  const root = await Deno.makeTempDir({ prefix: "bench-servers-" });
  const children: Child[] = [];
  let sessions: AtmSession[] = [];
  try {
    await migratePostgres(database.url);
    const dirs = Array.from({ length: servers }, (_, i) => `${root}/bank-data-${i + 1}`);
    const atms = await provision(dirs[0], database.url, config.atms);
    for (const dir of dirs.slice(1)) {
      await Deno.mkdir(`${dir}/keys`, { recursive: true, mode: 0o700 });
      await Deno.copyFile(`${dirs[0]}/keys/bank.key`, `${dir}/keys/bank.key`);
      await Deno.chmod(`${dir}/keys/bank.key`, 0o600);
    }
    for (const [i, dir] of dirs.entries()) {
      children.push(await startServer(dir, database.url, `bank-${i + 1}`));
    }
    const ports = children.map((child) => Number(child.ready[1]));
    // ATM i talks to server i mod n; sessions are put back in the ATMs' order
    const groups = await Promise.all(
      ports.map((port, s) => openLoggedInSessions(port, atms.filter((_, i) => i % servers === s))),
    );
    sessions = atms.map((_, i) => groups[i % servers][Math.floor(i / servers)]);
    const result = await measureTransactions(sessions, config);
    const entriesByServer = await countEntries(database.url, servers);
    return {
      servers,
      perSecond: result.perSecond,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      failures: result.failures,
      entriesByServer,
    };
  } finally {
    await closeSessions(sessions);
    for (const child of children) await child.stop().catch(() => {});
    await Deno.remove(root, { recursive: true });
    await database.drop();
  }
}

async function countEntries(url: string, servers: number): Promise<number[]> {
  const { default: postgres } = await import("postgres");
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`SELECT server_id, COUNT(*)::int AS n FROM entries
      WHERE server_id IS NOT NULL GROUP BY server_id`;
    const count = new Map(rows.map((row) => [String(row.server_id), Number(row.n)]));
    return Array.from({ length: servers }, (_, i) => count.get(`bank-${i + 1}`) ?? 0);
  } finally {
    await sql.end();
  }
}

async function main(args: string[]): Promise<number> {
  const unknown = args.filter((arg) => arg !== "--quick");
  if (unknown.length > 0) {
    console.error(`bench/multi_server: unknown argument ${JSON.stringify(unknown[0])}`);
    return 2;
  }
  const config = args.includes("--quick") ? QUICK : FULL;
  const probe = await probePostgres();
  if (!probe.adminUrl) {
    console.error(`bench/multi_server: no usable PostgreSQL (${probe.failure})`);
    return 1;
  }
  console.log(
    `bench/multi_server: ${config.atms} ATMs, mix of deno task bench, ` +
      `${config.measureMs / 1000} s measured after ${config.warmupMs / 1000} s warm-up, ` +
      `${navigator.hardwareConcurrency} cores`,
  );
  console.log("servers  tx/s     p50 ms  p99 ms  failures  entries per server");
  for (const servers of SERVER_COUNTS) {
    const row = await measure(probe.adminUrl, servers, config);
    console.log(
      `${String(row.servers).padEnd(9)}${row.perSecond.toFixed(0).padEnd(9)}` +
        `${row.p50Ms.toFixed(1).padEnd(8)}${row.p99Ms.toFixed(1).padEnd(8)}` +
        `${String(row.failures).padEnd(10)}${row.entriesByServer.join(" / ")}`,
    );
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
