/**
 * Faults on the machine, on a real bank process: a full disk, a read-only data directory, a
 * corrupt or missing ledger, a missing or wrong key, key files others can read. The bank must say
 * exactly what is wrong, acknowledge nothing it could not make durable, never start half-working,
 * and never lose what it acknowledged. Secrets must be created owner-only whatever the umask.
 *
 * The full disk and the read-only file system are real: a small tmpfs, filled up or remounted
 * read-only (needs root; without it those tests are skipped and say why).
 */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { BankClient } from "../atm/bank_client.ts";
import { BankClientError, BankRefusalError } from "../atm/errors.ts";
import { readCredential } from "../lib/mod.ts";
import { checkAuditLog } from "../torture/audit_check.ts";
import { spawnBank, startBank } from "../torture/bank_runner.ts";
import { setUpTortureBank, type TortureBank, tortureCustomers } from "../torture/bank_setup.ts";
import { ledgerOf, OPENING_CENTS } from "../torture/hostile_bank.ts";
import { canMountTmpfs, mountTmpfs } from "../torture/tmpfs.ts";
import { runCommand } from "./testing/bank_process.ts";

const MOUNT_PROBLEM = await canMountTmpfs();
if (MOUNT_PROBLEM !== null) console.log(`faults_test: tmpfs tests skipped: ${MOUNT_PROBLEM}`);

/** Room on the small file system: enough for a bank's files, small enough to fill at once. */
const TMPFS_BYTES = 8 * 1024 * 1024;

async function atmFor(
  setup: TortureBank,
  port: number,
  options: { index?: number; login?: boolean } = {},
): Promise<BankClient> {
  const spec = setup.atms[options.index ?? 0];
  const { atmId, psk } = await readCredential(spec.credentialPath);
  const client = new BankClient({
    atmId,
    psk,
    servers: [`127.0.0.1:${port}`],
    retry: { attemptsMax: 2, backoffMsInitial: 50, backoffMsMax: 100 },
  });
  if (options.login !== false) await client.login(spec.customer.name, spec.customer.pin);
  return client;
}

/** How a batch of deposits ended, as the ATM saw it. */
interface DepositOutcomes {
  acknowledged: number;
  /** Refusal codes the bank answered. */
  refused: string[];
  /** Deposits sent without an answer: applied or not, the ATM cannot know. */
  inDoubt: number;
}

/**
 * Deposits 1.00 up to `count` times and sorts the outcomes; stops early once the ATM has lost its
 * login (the bank could not log the customer in again after a dropped connection).
 */
async function deposits(atm: BankClient, count: number): Promise<DepositOutcomes> {
  const outcomes: DepositOutcomes = { acknowledged: 0, refused: [], inDoubt: 0 };
  for (let i = 0; i < count; i++) {
    try {
      await atm.request({ op: "deposit", amount: "1.00" });
      outcomes.acknowledged++;
    } catch (error) {
      if (error instanceof BankClientError && error.code === "closed") break;
      if (error instanceof BankClientError && error.code === "unreachable") outcomes.inDoubt++;
      else if (error instanceof BankRefusalError && error.code === "internal") outcomes.inDoubt++;
      else if (error instanceof BankRefusalError) outcomes.refused.push(error.code);
      else throw error;
    }
  }
  return outcomes;
}

async function newBank(dataDir: string): Promise<TortureBank> {
  return await setUpTortureBank(dataDir, {
    customers: tortureCustomers(2, OPENING_CENTS),
    atms: 2,
  });
}

/** Runs the bank once (so every file exists) and returns what its first ATM's customer holds. */
async function primedBank(dataDir: string): Promise<{ setup: TortureBank; balances: string }> {
  const setup = await newBank(dataDir);
  const run = await startBank({ dataDir });
  const atm = await atmFor(setup, run.port!);
  equal((await deposits(atm, 3)).acknowledged, 3);
  await atm.close();
  equal(await run.stop(), 0);
  return { setup, balances: JSON.stringify([...(await ledgerOf(dataDir)).balances]) };
}

/** Starts a bank that must refuse to start; returns its exit code and everything it said. */
async function refusedStart(dataDir: string): Promise<{ code: number; log: string }> {
  const run = spawnBank({ dataDir });
  const status = await run.exited();
  equal(run.port, null, `the bank listened although it should have refused:\n${run.logTail()}`);
  return { code: status.code, log: run.logTail() };
}

Deno.test({
  name: "a full disk: the bank acknowledges nothing more, says why, keeps running, loses nothing",
  ignore: MOUNT_PROBLEM !== null,
  async fn() {
    const tmpfs = await mountTmpfs(TMPFS_BYTES);
    try {
      const dataDir = `${tmpfs.path}/bank`;
      const setup = await newBank(dataDir);
      let run = await startBank({ dataDir });
      const atm = await atmFor(setup, run.port!);
      equal((await deposits(atm, 5)).acknowledged, 5);

      const free = await tmpfs.fill();
      const during = await deposits(atm, 20);
      await atm.close();
      console.log(`full disk: ${JSON.stringify(during)}`);
      deepStrictEqual(during.refused, [], "no refusal may claim that nothing was applied");
      ok(during.acknowledged < 20, "the bank went on acknowledging on a full disk");
      match(run.logTail(), /durability_lost .*(disk is full|No space left on device)/);
      // New connections and logins while the disk is full: their audit records cannot be
      // written either. Before the fix this ended the bank with an unhandled rejection.
      for (let i = 0; i < 4; i++) {
        const other = await atmFor(setup, run.port!, { index: 1, login: false });
        await other.login(setup.atms[1].customer.name, setup.atms[1].customer.pin).catch(() => {});
        await other.close();
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      ok(run.running, `the bank crashed on a full disk:\n${run.logTail()}`);
      deepStrictEqual(run.crashLines, []);

      // Space again, and a restart: everything acknowledged is there, the audit log verifies.
      await run.kill();
      await free();
      run = await startBank({ dataDir });
      equal(await run.stop(), 0);
      const ledger = await ledgerOf(dataDir);
      const held = ledger.balances.get(setup.atms[0].customer.name)!;
      const told = OPENING_CENTS + 100 * (5 + during.acknowledged);
      ok(held >= told, `an acknowledged deposit is missing: ${held} < ${told}`);
      ok(held <= told + 100 * during.inDoubt, `more was applied than sent: ${held}`);
      deepStrictEqual(ledger.invariantProblems, []);
      deepStrictEqual((await checkAuditLog(dataDir, ledger.entries)).problems, []);
    } finally {
      await tmpfs.unmount();
    }
  },
});

/** Copies every file of a directory (not recursive) into another. */
async function copyFiles(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isFile) await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

Deno.test({
  name: "an audit log that fails after the ledger committed: the deposit is in doubt, not refused",
  ignore: MOUNT_PROBLEM !== null,
  async fn() {
    // Before the fix the ATM was told "busy: nothing was applied" for a committed deposit.
    const dataDir = await Deno.makeTempDir({ prefix: "faults-" });
    const { setup } = await primedBank(dataDir);
    // The audit directory alone goes on a small file system; the ledger stays on a roomy one.
    const saved = await Deno.makeTempDir({ prefix: "faults-audit-" });
    await copyFiles(`${dataDir}/audit`, saved);
    const tmpfs = await mountTmpfs(TMPFS_BYTES);
    await copyFiles(saved, tmpfs.path);
    await Deno.remove(`${dataDir}/audit`, { recursive: true });
    await Deno.symlink(tmpfs.path, `${dataDir}/audit`);
    try {
      const run = await startBank({ dataDir });
      const atm = await atmFor(setup, run.port!);
      await tmpfs.fill();
      const during = await deposits(atm, 40);
      await atm.close();
      await run.kill();
      console.log(`audit disk full: ${JSON.stringify(during)}`);
      ok(during.acknowledged < 40, "the bank went on acknowledging without its audit log");
      deepStrictEqual(during.refused, [], "no refusal may claim that nothing was applied");
      await Deno.remove(`${tmpfs.path}/filler`);
      await Deno.remove(`${dataDir}/audit`);
      await copyFiles(tmpfs.path, `${dataDir}/audit`);
      const restarted = await startBank({ dataDir });
      equal(await restarted.stop(), 0);
      const ledger = await ledgerOf(dataDir);
      const held = ledger.balances.get(setup.atms[0].customer.name)!;
      const told = OPENING_CENTS + 100 * (3 + during.acknowledged);
      console.log(`ledger holds ${held}; acknowledged ${told}; ${during.inDoubt} in doubt`);
      ok(held >= told && held <= told + 100 * during.inDoubt, `ledger holds ${held}`);
      deepStrictEqual((await checkAuditLog(dataDir, ledger.entries)).problems, []);
    } finally {
      await tmpfs.unmount();
      await Deno.remove(saved, { recursive: true });
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a read-only data directory: the bank refuses to start and says so; nothing is lost",
  ignore: MOUNT_PROBLEM !== null,
  async fn() {
    const tmpfs = await mountTmpfs(TMPFS_BYTES);
    try {
      const dataDir = `${tmpfs.path}/bank`;
      const { balances } = await primedBank(dataDir);
      await tmpfs.setReadOnly(true);
      const refused = await refusedStart(dataDir);
      console.log(`read-only: exit ${refused.code}: ${refused.log.trim()}`);
      ok(refused.code !== 0);
      match(refused.log, /Cannot open the ledger .* for writing: Read-only file system/);
      await tmpfs.setReadOnly(false);
      const run = await startBank({ dataDir });
      equal(await run.stop(), 0);
      equal(JSON.stringify([...(await ledgerOf(dataDir)).balances]), balances);
    } finally {
      await tmpfs.unmount();
    }
  },
});

/** A fault done to a primed data directory, the message the bank must give, and the repair. */
interface StartFault {
  name: string;
  /** Breaks the directory; returns what undoes it. */
  breakIt(dataDir: string): Promise<() => Promise<void>>;
  message: RegExp;
}

async function moveAside(path: string): Promise<() => Promise<void>> {
  await Deno.rename(path, `${path}.aside`);
  return () => Deno.rename(`${path}.aside`, path);
}

async function replaceWith(path: string, bytes: Uint8Array): Promise<() => Promise<void>> {
  const original = await Deno.readFile(path);
  await Deno.writeFile(path, bytes, { mode: 0o600 });
  return () => Deno.writeFile(path, original, { mode: 0o600 });
}

async function chmodTo(path: string, mode: number): Promise<() => Promise<void>> {
  await Deno.chmod(path, mode);
  return () => Deno.chmod(path, 0o600);
}

const random = (size: number) => crypto.getRandomValues(new Uint8Array(size));

const START_FAULTS: StartFault[] = [
  {
    name: "corrupt ledger",
    breakIt: (dir) => replaceWith(`${dir}/ledger.sqlite`, random(64 * 1024)),
    message: /ledger\.sqlite is not a ledger database/,
  },
  {
    name: "missing ledger",
    breakIt: (dir) => moveAside(`${dir}/ledger.sqlite`),
    message: /ledger\.sqlite is missing, but the data directory .* is in use/,
  },
  {
    name: "missing bank key",
    breakIt: (dir) => moveAside(`${dir}/keys/bank.key`),
    message: /belongs to a bank whose key is not in .*bank\.key/,
  },
  {
    name: "wrong bank key",
    breakIt: (dir) => replaceWith(`${dir}/keys/bank.key`, random(32)),
    message: /bank key .*bank\.key is not the key of the ledger/,
  },
  {
    name: "missing audit key",
    breakIt: (dir) => moveAside(`${dir}/keys/audit-master.key`),
    message: /[Aa]udit key is missing but the audit log has records/,
  },
  {
    name: "wrong audit key",
    breakIt: (dir) => replaceWith(`${dir}/keys/audit-master.key`, random(32)),
    message: /does not decrypt/,
  },
  {
    name: "bank key readable by others",
    breakIt: (dir) => chmodTo(`${dir}/keys/bank.key`, 0o644),
    message: /bank\.key has mode 0644; group and others must have no access/,
  },
  {
    name: "audit key readable by the group",
    breakIt: (dir) => chmodTo(`${dir}/keys/audit-master.key`, 0o640),
    message: /audit-master\.key: Key file has mode 0640/,
  },
  {
    name: "audit epoch key writable by others",
    breakIt: (dir) => chmodTo(`${dir}/keys/audit-epoch.key`, 0o602),
    message: /audit-epoch\.key: Key file has mode 0602/,
  },
];

Deno.test("each broken data directory is refused at start with its own message; repaired, nothing is lost", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "faults-" });
  try {
    const { balances } = await primedBank(dataDir);
    for (const fault of START_FAULTS) {
      const repair = await fault.breakIt(dataDir);
      const refused = await refusedStart(dataDir);
      console.log(`${fault.name}: exit ${refused.code}: ${refused.log.trim()}`);
      ok(refused.code !== 0, `${fault.name}: exit code 0`);
      match(refused.log, fault.message, `${fault.name}: wrong message`);
      await repair();
      // The refusal changed nothing: the repaired directory starts and holds what it held.
      const run = await startBank({ dataDir });
      equal(await run.stop(), 0, `${fault.name}: repaired bank did not stop cleanly`);
      equal(JSON.stringify([...(await ledgerOf(dataDir)).balances]), balances, fault.name);
    }
    const ledger = await ledgerOf(dataDir);
    deepStrictEqual((await checkAuditLog(dataDir, ledger.entries)).problems, []);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

/** Every file and directory under `root`, with its permission bits. */
async function modesUnder(root: string): Promise<Map<string, number>> {
  const modes = new Map<string, number>();
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      modes.set(path.slice(root.length + 1), (await Deno.lstat(path)).mode! & 0o777);
      if (entry.isDirectory) await walk(path);
    }
  };
  await walk(root);
  return modes;
}

Deno.test("secrets are created owner-only even under umask 000", async () => {
  const parent = await Deno.makeTempDir({ prefix: "faults-umask-" });
  const dataDir = `${parent}/bank`;
  try {
    const run = spawnBank({ dataDir, args: ["--demo"], umask: "000" });
    await run.listening();
    equal(await run.stop(), 0);
    const modes = await modesUnder(dataDir);
    const loose = [...modes].filter(([path, mode]) =>
      (mode & 0o077) !== 0 && !path.startsWith("audit/inbox")
    );
    console.log(
      `umask 000: ${modes.size} paths, modes ${
        JSON.stringify(Object.fromEntries([...modes].map(([p, m]) => [p, m.toString(8)])))
      }`,
    );
    deepStrictEqual(loose, [], "files or directories others can access");
    equal((await Deno.lstat(dataDir)).mode! & 0o777, 0o700);
    for (const secret of ["keys/bank.key", "keys/audit-master.key", "audit-offline.key"]) {
      equal(modes.get(secret), 0o600, secret);
    }
    ok([...modes.keys()].some((path) => path.startsWith("atms/")), "credential files exist");
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("the atm refuses a credential file others can read, and says how to fix it", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "faults-cred-" });
  try {
    const setup = await newBank(dataDir);
    const path = setup.atms[0].credentialPath;
    await Deno.chmod(path, 0o644);
    const result = await runCommand("atm", [
      "--user",
      "c00",
      "--credential",
      path,
      "--server",
      "127.0.0.1:1",
      "--pin-stdin",
      "balance",
    ], "1000\n");
    console.log(`credential 0644: exit ${result.code}: ${result.stderr.trim()}`);
    equal(result.code, 5);
    match(result.stderr, /mode 0644/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
