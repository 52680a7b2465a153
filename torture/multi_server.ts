/**
 * `deno task torture:servers [--quick] [--seed N]` (`deno run -P=test torture/multi_server.ts`):
 * the several-servers torture mode. Three bank servers run on one fresh PostgreSQL ledger; ATMs
 * whose credentials list all three (each ATM in its own order) make random deposits, withdrawals
 * and transfers, while the servers are SIGKILLed one at a time, at random moments, and restarted,
 * so two always keep serving. At the end every server is restarted once (recovering the audit
 * records a kill cut off) and stopped, and the run checks:
 *
 * - every operation an ATM saw acknowledged is in the ledger exactly once, as acknowledged, and
 *   the ledger holds nothing else; every customer's balance is what the acknowledgements imply;
 * - the ledger's invariants (double entry, balances = postings, no negative balance);
 * - `bank audit --verify` over the three logs: every log verifies and every committed entry is
 *   held by one.
 *
 * Exit status 0 when every check passed, 1 otherwise, 2 on a bad flag.
 *
 * @module
 */

import { BankClient } from "../atm/bank_client.ts";
import { BankClientError, BankRefusalError } from "../atm/errors.ts";
import { parseAmount } from "../lib/amount.ts";
import { readCredential } from "../lib/mod.ts";
import { openPostgresStore } from "../server/ledger/postgres_store.ts";
import { createTestDatabase, probePostgres } from "../server/testing/postgres_db.ts";
import { type BankProcess, runCommand, startBankProcess } from "../server/testing/bank_process.ts";
import { readWholeJournal } from "./ledger_check.ts";
import { SeededRandom } from "./random.ts";

/** Sizes of one run. */
interface MultiTortureConfig {
  mode: "quick" | "full";
  servers: number;
  atms: number;
  customers: number;
  /** Kills, one server at a time; a killed server is restarted before the next kill. */
  kills: number;
  /** Time between two kills: a random value in this range. */
  servingMsMin: number;
  servingMsMax: number;
}

const QUICK: MultiTortureConfig = {
  mode: "quick",
  servers: 3,
  atms: 6,
  customers: 4,
  kills: 4,
  servingMsMin: 1_500,
  servingMsMax: 3_000,
};

const FULL: MultiTortureConfig = {
  mode: "full",
  servers: 3,
  atms: 20,
  customers: 8,
  kills: 12,
  servingMsMin: 2_000,
  servingMsMax: 5_000,
};

const OPENING = "1000.00";
const PIN = "4321";

/** Largest random amount in cents. */
const AMOUNT_CENTS_MAX = 5_000;

/** An operation an ATM saw acknowledged. */
interface Acknowledged {
  id: string;
  customer: string;
  kind: "deposit" | "withdraw" | "transfer";
  cents: number;
  to?: string;
}

/** What the ATMs did. */
interface AtmTotals {
  acknowledged: Acknowledged[];
  refused: number;
  replayed: number;
  connectionsLost: number;
  /** Operations whose outcome the ATM never learnt (no server answered); must stay 0. */
  unanswered: string[];
}

/** An integer from 0 to n - 1. */
function below(random: SeededRandom, n: number): number {
  return random.integer(0, n - 1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function bank(args: string[], stdin = ""): Promise<string> {
  const result = await runCommand("bank", args, stdin);
  if (result.code !== 0) {
    throw new Error(`bank ${args[0]} exited ${result.code}: ${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

async function runAtm(
  credential: string,
  customers: string[],
  random: SeededRandom,
  totals: AtmTotals,
  stop: { now: boolean },
): Promise<void> {
  const { atmId, psk, servers } = await readCredential(credential);
  const customer = customers[below(random, customers.length)];
  const client = new BankClient({
    atmId,
    psk,
    servers,
    retry: { attemptsMax: 8, backoffMsInitial: 50, backoffMsMax: 1_000 },
    timeouts: { connectMs: 2_000, handshakeMs: 5_000, responseMs: 15_000 },
    onEvent: (event) => {
      if (event.type === "connection_lost") totals.connectionsLost++;
    },
  });
  try {
    await client.login(customer, PIN);
    while (!stop.now) {
      const cents = 1 + below(random, AMOUNT_CENTS_MAX);
      const amount = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
      const pick = below(random, 3);
      const others = customers.filter((name) => name !== customer);
      const to = others[below(random, others.length)];
      const action = pick === 0
        ? { op: "deposit" as const, amount }
        : pick === 1
        ? { op: "withdraw" as const, amount }
        : { op: "transfer" as const, to, amount };
      try {
        const answer = await client.request(action);
        if (answer.replayed) totals.replayed++;
        totals.acknowledged.push({ id: answer.id, customer, kind: action.op, cents, to });
      } catch (error) {
        if (error instanceof BankRefusalError) {
          totals.refused++;
        } else if (error instanceof BankClientError && error.code === "unreachable") {
          totals.unanswered.push(`${atmId}: ${error.message}`);
          return;
        } else {
          throw error;
        }
      }
    }
  } finally {
    await client.close();
  }
}

/** Compares the ledger with what the ATMs were told; returns the problems found. */
async function checkLedger(
  url: string,
  customers: string[],
  totals: AtmTotals,
): Promise<string[]> {
  const problems: string[] = [];
  const store = await openPostgresStore(url);
  try {
    const entries = (await readWholeJournal(store)).filter((entry) => entry.kind !== "opening");
    const acknowledged = new Map(totals.acknowledged.map((op) => [op.id, op]));
    for (const entry of entries) {
      const op = acknowledged.get(entry.requestId ?? "");
      if (op === undefined) {
        problems.push(`entry ${entry.entryId} (${entry.requestId}) was never acknowledged`);
      } else if (op.kind !== entry.kind || op.cents !== entry.amountCents) {
        problems.push(`entry ${entry.entryId} differs from what ${op.id} was told`);
      }
      acknowledged.delete(entry.requestId ?? "");
    }
    for (const id of acknowledged.keys()) problems.push(`acknowledged ${id} is not in the ledger`);
    const expected = new Map(customers.map((name) => [name, parseAmount(OPENING)]));
    const add = (name: string, cents: number) => expected.set(name, expected.get(name)! + cents);
    for (const op of totals.acknowledged) {
      add(op.customer, op.kind === "deposit" ? op.cents : -op.cents);
      if (op.kind === "transfer") add(op.to!, op.cents);
    }
    for (const row of await store.listCustomers()) {
      if (row.balanceCents !== expected.get(row.name)) {
        problems.push(`${row.name} holds ${row.balanceCents}, expected ${expected.get(row.name)}`);
      }
    }
    const invariants = await store.checkInvariants();
    problems.push(...invariants.problems.map((problem) => `invariant: ${problem}`));
  } finally {
    await store.close();
  }
  return problems;
}

/** The servers across their restarts: at most one is down at any time. */
class Servers {
  readonly current: BankProcess[] = [];
  readonly #dirs: string[];
  readonly #db: string;

  constructor(dirs: string[], db: string) {
    this.#dirs = dirs;
    this.#db = db;
  }

  /** Starts server `i` on a fixed port (its address is in every credential). */
  async start(i: number, port: number): Promise<void> {
    this.current[i] = await startBankProcess(this.#dirs[i], [
      "--db",
      this.#db,
      "--server-id",
      `bank-${i + 1}`,
      "--port",
      String(port),
    ]);
  }
}

function freePorts(count: number): number[] {
  const listeners = Array.from(
    { length: count },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((listener) => (listener.addr as Deno.NetAddr).port);
  for (const listener of listeners) listener.close();
  return ports;
}

async function run(config: MultiTortureConfig, seed: number): Promise<boolean> {
  const probe = await probePostgres();
  if (!probe.adminUrl) {
    console.error(`torture/multi_server: no usable PostgreSQL (${probe.failure})`);
    return false;
  }
  const random = new SeededRandom(seed);
  const database = await createTestDatabase(probe.adminUrl);
  const root = await Deno.makeTempDir({ prefix: "torture-servers-" });
  const dirs = Array.from({ length: config.servers }, (_, i) => `${root}/bank-data-${i + 1}`);
  const servers = new Servers(dirs, database.url);
  const began = performance.now();
  try {
    // the bank, set up with the real commands
    await bank(["migrate", "--db", database.url]);
    const customers = Array.from({ length: config.customers }, (_, i) => `cust-${i + 1}`);
    for (const name of customers) {
      const args = ["customer", "add", name, "--deposit", OPENING, "--pin-stdin"];
      await bank([...args, "--data", dirs[0], "--db", database.url], `${PIN}\n`);
    }
    for (const dir of dirs.slice(1)) {
      await Deno.mkdir(`${dir}/keys`, { recursive: true, mode: 0o700 });
      await Deno.copyFile(`${dirs[0]}/keys/bank.key`, `${dir}/keys/bank.key`);
      await Deno.chmod(`${dir}/keys/bank.key`, 0o600);
    }
    const ports = freePorts(config.servers);
    for (const [i, port] of ports.entries()) await servers.start(i, port);
    const credentials: string[] = [];
    for (let i = 0; i < config.atms; i++) {
      const order = ports.map((_, k) => `127.0.0.1:${ports[(i + k) % ports.length]}`);
      const path = `${root}/atm-${i + 1}.json`;
      const args = ["atm", "add", `atm-${i + 1}`, "--out", path, "--data", dirs[0]];
      await bank([...args, "--db", database.url, "--server", ...order]);
      credentials.push(path);
    }

    // ATMs run while servers are killed and restarted one at a time
    const totals: AtmTotals = {
      acknowledged: [],
      refused: 0,
      replayed: 0,
      connectionsLost: 0,
      unanswered: [],
    };
    const stop = { now: false };
    const atms = credentials.map((path, i) =>
      runAtm(path, customers, new SeededRandom(seed + i + 1), totals, stop)
    );
    for (let kill = 0; kill < config.kills; kill++) {
      const span = config.servingMsMax - config.servingMsMin;
      await sleep(config.servingMsMin + below(random, span + 1));
      const victim = below(random, config.servers);
      await servers.current[victim].kill();
      console.log(`kill ${kill + 1}/${config.kills}: bank-${victim + 1} SIGKILLed`);
      await sleep(below(random, 1_000));
      await servers.start(victim, ports[victim]);
    }
    await sleep(config.servingMsMin);
    stop.now = true;
    await Promise.all(atms);
    for (const server of servers.current) await server.stop();
    // every server once more: recovers the audit records of its entries a kill cut off
    for (const [i, port] of ports.entries()) await servers.start(i, port);
    for (const server of servers.current) await server.stop();
    servers.current.length = 0;

    // the verdict
    const ledgerProblems = await checkLedger(database.url, customers, totals);
    const verify = await runCommand(
      "bank",
      ["audit", "--verify", ...dirs.flatMap((dir) => ["--data", dir]), "--db", database.url],
    );
    const seconds = (performance.now() - began) / 1000;
    const checks = [
      ["every acknowledged operation in the ledger exactly once, nothing else", ledgerProblems],
      ["every ATM finished without losing an answer", totals.unanswered],
      ["bank audit --verify over every log", verify.code === 0 ? [] : [verify.stdout]],
    ] as const;
    console.log("");
    console.log(
      `torture multi-server ${config.mode}: seed ${seed}, ${config.servers} servers, ` +
        `${config.atms} ATMs, ${config.customers} customers, ${config.kills} kills, ` +
        `${seconds.toFixed(0)} s`,
    );
    for (const [name, problems] of checks) {
      console.log(`  ${problems.length === 0 ? "ok  " : "FAIL"}  ${name}`);
      for (const problem of problems.slice(0, 10)) console.log(`          ${problem}`);
    }
    console.log(
      `figures: ${totals.acknowledged.length} operations acknowledged, ${totals.refused} ` +
        `refused, ${totals.replayed} answered from a resent request id, ` +
        `${totals.connectionsLost} connections lost and failed over`,
    );
    console.log(verify.stdout.trimEnd().split("\n").map((line) => `  ${line}`).join("\n"));
    return checks.every(([, problems]) => problems.length === 0);
  } finally {
    for (const server of servers.current) await server.kill().catch(() => {});
    await Deno.remove(root, { recursive: true });
    await database.drop();
  }
}

async function main(args: string[]): Promise<number> {
  let config = FULL;
  let seed = crypto.getRandomValues(new Uint32Array(1))[0];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--quick") config = QUICK;
    else if (args[i] === "--seed" && /^[0-9]{1,10}$/.test(args[i + 1] ?? "")) seed = +args[++i];
    else {
      console.error(`torture/multi_server: unknown argument ${JSON.stringify(args[i])}`);
      return 2;
    }
  }
  return await run(config, seed) ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
