/**
 * The listener against hostile connections, on a real bank process over loopback TCP: frames cut
 * in the middle, half-open and silent connections, a client sending one byte a second, a 4 GiB
 * length prefix, 5,000 connections that never finish a handshake, the connection limit, and an
 * open-files limit lower than the connection limit. In every case the bank closes the bad
 * connection, keeps serving real ATMs, and its memory stays bounded.
 *
 * The tests assert behaviour; the latencies and memory they measure are printed, not asserted
 * against a clock, because the machine is shared.
 */

import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { encodeFrame, FrameType } from "../lib/frame.ts";
import { encodeAtmHello } from "../lib/handshake_messages.ts";
import { connectChannel, readCredential } from "../lib/mod.ts";
import { REPO_ROOT } from "./testing/bank_process.ts";
import type { FloodCounts } from "../torture/connection_flood.ts";
import {
  type HostileBank,
  ledgerOf,
  percentile,
  realAtm,
  sampleMemory,
  waitForClose,
  withHostileBank,
} from "../torture/hostile_bank.ts";

/** Handshake deadline given to the bank in these tests: short, so the tests stay short. */
const HANDSHAKE_MS = 1_500;
/** Idle deadline of an authenticated session in these tests. */
const IDLE_MS = 2_000;
/** How long a test waits for the bank to close a connection it must close. */
const CLOSE_WAIT_MS = 10_000;
/** Connections of the flood test, as the issue asks. */
const FLOOD_CONNECTIONS = 5_000;
/** How long the flood lasts. */
const FLOOD_MS = 15_000;
/**
 * Memory the bank may gain under the flood: 80 KiB per held connection. Measured growth is about
 * 40 KiB per connection (V8 objects, timers, the 5-byte header buffer, audit records waiting for
 * their flush); what matters is that it follows the connections held, not the bytes they announce
 * or the 15,000 connections opened over the run.
 */
const FLOOD_MEMORY_GROWTH_MAX = FLOOD_CONNECTIONS * 80 * 1024;

const SHORT_LIMITS = ["--handshake-timeout-ms", String(HANDSHAKE_MS)];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function connect(bank: HostileBank): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port: bank.port });
}

/** A valid ATM hello of a registered ATM, as the first frame of a handshake. */
function helloFrame(bank: HostileBank): Uint8Array {
  const body = encodeAtmHello({
    atmId: bank.setup.atms[0].atmId,
    nonce: crypto.getRandomValues(new Uint8Array(32)),
    publicKey: crypto.getRandomValues(new Uint8Array(32)),
  });
  return encodeFrame(FrameType.ATM_HELLO, body);
}

/** Completes a real handshake and keeps the raw socket, to send raw bytes afterwards. */
async function authenticatedSocket(bank: HostileBank): Promise<Deno.TcpConn> {
  const { atmId, psk } = await readCredential(bank.setup.atms[1].credentialPath);
  const conn = await connect(bank);
  await connectChannel(conn, { atmId, psk });
  return conn;
}

/** A deposit of 1.00 by a real ATM must succeed: the bank still serves. */
async function assertServes(bank: HostileBank): Promise<void> {
  const atm = await realAtm(bank, 2);
  try {
    const answer = await atm.request({ op: "deposit", amount: "1.00" });
    equal(answer.ok, true);
  } finally {
    await atm.close();
  }
}

Deno.test("the bank closes connections cut mid-frame, half-open or silent, and keeps serving", async () => {
  await withHostileBank(
    { args: [...SHORT_LIMITS, "--idle-timeout-ms", String(IDLE_MS)] },
    async (bank) => {
      // Half a hello, then the connection is cut.
      const cut = await connect(bank);
      await cut.write(helloFrame(bank).subarray(0, 30));
      cut.close();

      // Half a record after a real handshake, then cut.
      const cutRecord = await authenticatedSocket(bank);
      await cutRecord.write(encodeFrame(FrameType.RECORD_DATA, new Uint8Array(96)).subarray(0, 40));
      cutRecord.close();

      // Half-open: half a hello, our sending side shut, still reading.
      const halfOpen = await connect(bank);
      await halfOpen.write(helloFrame(bank).subarray(0, 50));
      await halfOpen.closeWrite();

      // Silent before the handshake, and silent after it.
      const silent = await connect(bank);
      const idle = await authenticatedSocket(bank);

      const results = await Promise.all([
        waitForClose(halfOpen, CLOSE_WAIT_MS),
        waitForClose(silent, CLOSE_WAIT_MS),
        waitForClose(idle, CLOSE_WAIT_MS),
      ]);
      deepStrictEqual(results, ["closed", "closed", "closed"]);
      await assertServes(bank);
      const log = bank.run.logTail();
      ok(log.includes("reason=truncated"), "a cut frame is logged as truncated");
      ok(log.includes("reason=timeout"), "a silent connection is logged as timed out");
    },
  );
});

Deno.test("a client sending one byte a second is cut off at the handshake deadline", async () => {
  await withHostileBank({ args: SHORT_LIMITS }, async (bank) => {
    const conn = await connect(bank);
    const hello = helloFrame(bank);
    const closed = waitForClose(conn, CLOSE_WAIT_MS);
    let sent = 0;
    const writer = (async () => {
      try {
        for (; sent < hello.length; sent++) {
          await conn.write(hello.subarray(sent, sent + 1));
          await sleep(1_000);
        }
      } catch { /* the bank closed the connection */ }
    })();
    equal(await closed, "closed");
    await writer;
    console.log(`slow client: closed by the bank after ${sent} of ${hello.length} bytes`);
    ok(sent < hello.length, "the slow client never got to finish its hello");
    await assertServes(bank);
  });
});

Deno.test("a 4 GiB length prefix is refused at once, before and after the handshake", async () => {
  await withHostileBank({ args: SHORT_LIMITS }, async (bank) => {
    const before = (await bank.run.residentBytes())!;
    const early = await connect(bank);
    await early.write(new Uint8Array([FrameType.ATM_HELLO, 0xff, 0xff, 0xff, 0xff]));
    const late = await authenticatedSocket(bank);
    await late.write(new Uint8Array([FrameType.RECORD_DATA, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    // Well before the handshake deadline: the length alone is enough to refuse.
    deepStrictEqual(
      await Promise.all([waitForClose(early, HANDSHAKE_MS / 2), waitForClose(late, 5_000)]),
      ["closed", "closed"],
    );
    const after = (await bank.run.residentBytes())!;
    console.log(`4 GiB prefix: bank memory ${mib(before)} MiB before, ${mib(after)} MiB after`);
    ok(after - before < 64 * 1024 * 1024, "the bank did not allocate for the announced length");
    const log = bank.run.logTail();
    ok(log.includes("reason=frame_too_large"), "logged as frame_too_large");
    await assertServes(bank);
  });
});

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

/** Runs the connection flood in its own process, with room for its file descriptors. */
async function runFlood(port: number, count: number, ms: number): Promise<FloodCounts> {
  const output = await new Deno.Command("prlimit", {
    args: [
      `--nofile=${count + 1_000}:${count + 1_000}`,
      Deno.execPath(),
      "run",
      "--quiet",
      "-P=test",
      "torture/connection_flood.ts",
      String(port),
      String(count),
      String(ms),
    ],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return JSON.parse(text.split("\n").pop()!) as FloodCounts;
}

/** Real ATMs doing deposits and balances until `until`; returns each request's latency in ms. */
async function serveRealAtms(bank: HostileBank, atms: number, until: number): Promise<number[]> {
  const latencies: number[] = [];
  await Promise.all(Array.from({ length: atms }, async (_, i) => {
    const atm = await realAtm(bank, i);
    try {
      while (performance.now() < until) {
        const started = performance.now();
        const answer = await atm.request(
          latencies.length % 2 === 0 ? { op: "deposit", amount: "0.01" } : { op: "balance" },
        );
        equal(answer.ok, true);
        latencies.push(performance.now() - started);
      }
    } finally {
      await atm.close();
    }
  }));
  return latencies;
}

Deno.test("5,000 connections that never finish a handshake: real ATMs are still served, memory stays bounded", async () => {
  await withHostileBank({ atms: 4, customers: 4 }, async (bank) => {
    const baseline = await serveRealAtms(bank, 4, performance.now() + 3_000);
    const calm = (await bank.run.residentBytes())!;
    const memory = sampleMemory(bank.run);
    const flooding = runFlood(bank.port, FLOOD_CONNECTIONS, FLOOD_MS);
    await sleep(3_000); // let the flood fill up before measuring
    const underAttack = await serveRealAtms(bank, 4, performance.now() + FLOOD_MS - 5_000);
    const counts = await flooding;
    const peak = await memory.stop();
    console.log(
      `flood: ${counts.openMax} held at once, ${counts.opened} opened, ` +
        `${counts.closedByBank} closed by the bank, ${counts.connectFailures} connects failed`,
    );
    console.log(
      `real ATMs: ${baseline.length} requests before, p50 ${
        percentile(baseline, 0.5).toFixed(1)
      } ` +
        `p99 ${percentile(baseline, 0.99).toFixed(1)} ms; ${underAttack.length} during the ` +
        `flood, p50 ${percentile(underAttack, 0.5).toFixed(1)} ` +
        `p99 ${percentile(underAttack, 0.99).toFixed(1)} ms`,
    );
    console.log(`bank memory: ${mib(calm)} MiB calm, ${mib(peak)} MiB peak under the flood`);
    ok(counts.openMax >= FLOOD_CONNECTIONS * 0.9, `the flood held only ${counts.openMax}`);
    ok(counts.closedByBank > 0, "the bank closed connections at the handshake deadline");
    ok(underAttack.length > 0, "real ATMs were served during the flood");
    ok(peak - calm < FLOOD_MEMORY_GROWTH_MAX, `memory grew by ${mib(peak - calm)} MiB`);
    await assertServes(bank);
  });
});

Deno.test("beyond --connections-max new connections are closed at once; service resumes", async () => {
  await withHostileBank(
    { args: ["--connections-max", "40", "--handshake-timeout-ms", "4000"] },
    async (bank) => {
      const conns = await Promise.all(Array.from({ length: 60 }, () => connect(bank)));
      const results = await Promise.all(conns.map((conn) => waitForClose(conn, 2_000)));
      const closedAtOnce = results.filter((r) => r === "closed").length;
      equal(
        closedAtOnce,
        20,
        "exactly the connections over the limit are closed before the deadline",
      );
      ok(bank.run.logTail().includes("reason=connections_max"));
      await assertServes(bank);
    },
  );
});

Deno.test("running out of file descriptors lowers the connection limit instead of crashing the bank", async () => {
  // Before the fix, accept() failing with EMFILE was an unhandled rejection that ended the bank.
  await withHostileBank({ openFilesMax: 256 }, async (bank) => {
    const conns: Deno.Conn[] = [];
    for (let i = 0; i < 400; i++) conns.push(await connect(bank));
    await sleep(1_000);
    ok(bank.run.running, "the bank survived 400 connections with 256 file descriptors");
    ok(bank.run.logTail().includes("connections_max_lowered"), "the lower limit is logged");
    for (const conn of conns) conn.close();
    await assertServes(bank);
    const ledger = await ledgerOf(bank.setup.dataDir);
    equal(ledger.invariantProblems.length, 0);
  });
});
