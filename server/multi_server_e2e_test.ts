/**
 * Two real bank processes on one fresh PostgreSQL ledger, set up with the real commands (`bank
 * migrate`, `bank customer add`, `bank atm add` with both addresses, the bank key copied to the
 * second data directory). ATM clients with a two-server credential make deposits, withdrawals
 * and transfers; server 1 is killed with SIGKILL halfway. The ATMs must fail over to server 2
 * and finish, every acknowledged transaction must be in the ledger exactly once (and nothing
 * else), balances must match what the ATMs were told, and the ledger's invariants must hold.
 *
 * Bounded: ATMS clients x OPS_PER_ATM operations on loopback, one request in flight per client.
 */

import { BankClient, type BankClientEvent } from "../atm/bank_client.ts";
import { BankRefusalError } from "../atm/errors.ts";
import { parseAmount } from "../lib/amount.ts";
import { readCredential } from "../lib/mod.ts";
import { readWholeJournal } from "../torture/ledger_check.ts";
import { openPostgresStore } from "./ledger/postgres_store.ts";
import { createTestDatabase, probePostgres, reportMissingPostgres } from "./testing/postgres_db.ts";
import { type BankProcess, runCommand, startBankProcess } from "./testing/bank_process.ts";

/** Customers, each on its own ATM, with their opening balance in cents. */
const CUSTOMERS = ["alice", "bob", "carol", "dave"];
const OPENING = "500.00";
const PIN = "4321";

/** Operations each ATM makes; server 1 is killed once KILL_AFTER_OPS are acknowledged in all. */
const OPS_PER_ATM = 40;
const KILL_AFTER_OPS = 50;

const probe = await probePostgres();
reportMissingPostgres(probe, "multi_server_e2e_test");

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function bank(args: string[], stdin = ""): Promise<string> {
  const result = await runCommand("bank", args, stdin);
  assert(result.code === 0, `bank ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/** What one ATM did: the operations the bank acknowledged and those it refused. */
interface AtmRun {
  atmId: string;
  applied: { id: string; kind: string; cents: number; to?: string }[];
  refused: number;
  /** Answers the bank gave from a request's stored first answer (a resent request). */
  replayed: number;
  events: BankClientEvent[];
}

/** The operation an ATM makes at step `step`: a fixed mix, so the run is the same every time. */
function operation(step: number, customer: number) {
  const to = CUSTOMERS[(customer + 1) % CUSTOMERS.length];
  const amount = `${1 + (step % 7)}.${String(step % 100).padStart(2, "0")}`;
  switch (step % 3) {
    case 0:
      return { op: "deposit" as const, amount };
    case 1:
      return { op: "withdraw" as const, amount };
    default:
      return { op: "transfer" as const, to, amount };
  }
}

async function runAtm(
  credentialPath: string,
  customer: number,
  progress: { acknowledged: number; onAcknowledged: () => void },
): Promise<AtmRun> {
  const { atmId, psk, servers } = await readCredential(credentialPath);
  const run: AtmRun = { atmId, applied: [], refused: 0, replayed: 0, events: [] };
  const client = new BankClient({
    atmId,
    psk,
    servers,
    retry: { attemptsMax: 6, backoffMsInitial: 50, backoffMsMax: 500 },
    timeouts: { connectMs: 2_000, handshakeMs: 5_000, responseMs: 10_000 },
    onEvent: (event) => run.events.push(event),
  });
  try {
    await client.login(CUSTOMERS[customer], PIN);
    for (let step = 0; step < OPS_PER_ATM; step++) {
      const action = operation(step, customer);
      try {
        const answer = await client.request(action);
        run.applied.push({
          id: answer.id,
          kind: action.op,
          cents: parseAmount(action.amount),
          to: action.op === "transfer" ? action.to : undefined,
        });
        if (answer.replayed) run.replayed++;
        progress.acknowledged++;
        progress.onAcknowledged();
      } catch (error) {
        if (!(error instanceof BankRefusalError)) throw error;
        run.refused++;
      }
    }
  } finally {
    await client.close();
  }
  return run;
}

/** Balances the ATMs' acknowledged operations imply, in cents. */
function expectedBalances(runs: AtmRun[]): Map<string, number> {
  const balances = new Map(CUSTOMERS.map((name) => [name, parseAmount(OPENING)]));
  const add = (name: string, cents: number) => balances.set(name, balances.get(name)! + cents);
  runs.forEach((run, customer) => {
    const name = CUSTOMERS[customer];
    for (const op of run.applied) {
      if (op.kind === "deposit") add(name, op.cents);
      else add(name, -op.cents);
      if (op.kind === "transfer") add(op.to!, op.cents);
    }
  });
  return balances;
}

Deno.test({
  name: "two bank servers on one PostgreSQL: ATMs fail over when one is killed, nothing is lost",
  ignore: !probe.adminUrl,
  fn: async () => {
    const database = await createTestDatabase(probe.adminUrl!);
    const root = await Deno.makeTempDir({ prefix: "multi-server-" });
    const dirs = [`${root}/bank-data-1`, `${root}/bank-data-2`];
    const db = database.url;
    const servers: BankProcess[] = [];
    try {
      // set up the bank as the README does: schema, customers, the bank key on server 2
      await bank(["migrate", "--db", db]);
      for (const name of CUSTOMERS) {
        const args = ["customer", "add", name, "--deposit", OPENING, "--pin-stdin"];
        await bank([...args, "--data", dirs[0], "--db", db], `${PIN}\n`);
      }
      await Deno.mkdir(`${dirs[1]}/keys`, { recursive: true, mode: 0o700 });
      await Deno.copyFile(`${dirs[0]}/keys/bank.key`, `${dirs[1]}/keys/bank.key`);
      await Deno.chmod(`${dirs[1]}/keys/bank.key`, 0o600);
      for (const [i, dir] of dirs.entries()) {
        servers.push(await startBankProcess(dir, ["--db", db, "--server-id", `bank-${i + 1}`]));
      }
      const [one, two] = servers.map((server) => `127.0.0.1:${server.port}`);
      // a third server under a running server's id is refused before it listens
      const twin = await startBankProcess(`${root}/bank-data-3`, [
        "--db",
        db,
        "--server-id",
        "bank-2",
      ])
        .then((server) => server.kill().then(() => "started"), (error: Error) => error.message);
      assert(twin.includes('server id "bank-2"'), `a second bank-2: ${twin}`);
      // every ATM lists both servers with server 1 first, so the kill cuts every one of them off
      const credentials: string[] = [];
      for (const [i] of CUSTOMERS.entries()) {
        const path = `${root}/atm-${i + 1}.json`;
        await bank(["atm", "add", `atm-${i + 1}`, "--out", path, "--data", dirs[i % 2]].concat(
          ["--db", db, "--server", one, two],
        ));
        credentials.push(path);
      }

      // load; kill server 1 once KILL_AFTER_OPS operations were acknowledged
      const killed = Promise.withResolvers<void>();
      const progress = {
        acknowledged: 0,
        onAcknowledged: () => {
          if (progress.acknowledged === KILL_AFTER_OPS) servers[0].kill().then(killed.resolve);
        },
      };
      const runs = await Promise.all(
        credentials.map((path, customer) => runAtm(path, customer, progress)),
      );
      await killed.promise;
      const exitCode = await servers[1].stop();
      assert(exitCode === 0, `server 2 exited ${exitCode}:\n${servers[1].log()}`);

      // every ATM was cut off from server 1 and carried on through server 2
      for (const run of runs) {
        const lost = run.events.some((event) =>
          event.type === "connection_lost" && event.server === one
        );
        const movedOn = run.events.some((event) =>
          event.type === "connected" && event.server === two
        );
        assert(lost && movedOn, `${run.atmId} did not fail over: ${JSON.stringify(run.events)}`);
        assert(
          run.applied.length + run.refused === OPS_PER_ATM,
          `${run.atmId} finished ${run.applied.length + run.refused} of ${OPS_PER_ATM}`,
        );
      }

      // the ledger holds exactly the acknowledged operations, each once
      const store = await openPostgresStore(db);
      try {
        const entries = (await readWholeJournal(store)).filter((entry) => entry.kind !== "opening");
        const acknowledged = new Map(runs.flatMap((run) => run.applied.map((op) => [op.id, op])));
        assert(
          entries.length === acknowledged.size,
          `${entries.length} entries for ${acknowledged.size} acknowledged operations`,
        );
        for (const entry of entries) {
          const op = acknowledged.get(entry.requestId ?? "");
          assert(op !== undefined, `entry ${entry.entryId} was never acknowledged to an ATM`);
          assert(
            op.kind === entry.kind && op.cents === entry.amountCents,
            `entry ${entry.entryId} is ${entry.kind} ${entry.amountCents}, ATM saw ${op.kind} ` +
              `${op.cents}`,
          );
          acknowledged.delete(entry.requestId!);
        }
        const byServer = (id: string) => entries.filter((entry) => entry.serverId === id).length;
        assert(byServer("bank-1") > 0 && byServer("bank-2") > 0, "both servers committed entries");
        const sum = (count: (run: AtmRun) => number) => runs.reduce((n, run) => n + count(run), 0);
        console.log(
          `entries ${entries.length} (bank-1 ${byServer("bank-1")}, bank-2 ${
            byServer("bank-2")
          }), ` +
            `refused ${sum((run) => run.refused)}, replayed answers ${sum((run) => run.replayed)}`,
        );
        const balances = new Map(
          (await store.listCustomers()).map((row) => [row.name, row.balanceCents]),
        );
        for (const [name, cents] of expectedBalances(runs)) {
          assert(balances.get(name) === cents, `${name}: ${balances.get(name)}, expected ${cents}`);
        }
        const invariants = await store.checkInvariants();
        assert(invariants.ok, `invariants: ${invariants.problems.join("; ")}`);
      } finally {
        await store.close();
      }

      // server 1 restarts (recovering the records the kill cut off); the two logs together
      // then hold every committed entry
      const restarted = await startBankProcess(dirs[0], ["--db", db, "--server-id", "bank-1"]);
      assert(await restarted.stop() === 0, `server 1 restart:\n${restarted.log()}`);
      const audit = ["audit", "--verify", "--data", dirs[0], "--data", dirs[1], "--db", db];
      const verified = await bank(audit);
      assert(/by none\n/.test(verified) && verified.includes(" 0 by none"), verified);
      assert(verified.trimEnd().endsWith("result   OK"), verified);

      // an entry that no log holds is reported with the server that committed it
      const intruder = await openPostgresStore(db);
      try {
        const [alice] = await intruder.listCustomers();
        const customer = await intruder.findCustomer(alice.name);
        await intruder.applyBatch([{
          kind: "deposit",
          requestId: "not-in-any-log",
          atmId: "atm-1",
          customerId: customer!.id,
          amountCents: 1,
          serverId: "bank-3",
        }]);
      } finally {
        await intruder.close();
      }
      const caught = await runCommand("bank", audit);
      assert(caught.code === 1, `verify of a log-less entry exited ${caught.code}`);
      assert(
        /missing {2}entry \d+: deposit 0\.01 at \S+ by bank-3 request not-in-any-log/.test(
          caught.stdout,
        ),
        caught.stdout,
      );
    } finally {
      for (const server of servers) await server.kill().catch(() => {});
      await Deno.remove(root, { recursive: true });
      await database.drop();
    }
  },
});
