/**
 * A live fuzzer against a real bank process, for a bounded time: random bytes, mutated ATM
 * hellos, garbage frames after a real handshake, records with random and mutated requests, and
 * correctly framed records with bytes flipped on the wire. The bank must never crash or log an
 * unhandled rejection, never change the ledger, close every connection that broke the protocol,
 * and answer every well-formed request from a session that is not logged in with a refusal.
 */

import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { encodeMessage } from "../lib/messages.ts";
import { decodeResponse } from "../lib/messages.ts";
import { encodeFrame } from "../lib/frame.ts";
import { encodeAtmHello } from "../lib/handshake_messages.ts";
import { connectChannel, readCredential, type SecureChannel } from "../lib/mod.ts";
import {
  type HostileBank,
  ledgerOf,
  realAtm,
  waitForClose,
  withHostileBank,
} from "../torture/hostile_bank.ts";
import { SeededRandom } from "../torture/random.ts";

/** How long the fuzzer runs. */
const FUZZ_MS = 12_000;
/** Connections fuzzed at once. */
const WORKERS = 6;
/** Handshake deadline of the bank under test: a stalled case ends within it. */
const HANDSHAKE_MS = 1_500;
/** How long a case waits for the bank to close a connection it must close. */
const CLOSE_WAIT_MS = 8_000;
/** How long a case waits for the answer to a well-formed request. */
const ANSWER_WAIT_MS = 5_000;

/** The kinds of hostile connection, each a function of the bank and a random source. */
type FuzzCase = (bank: HostileBank, random: SeededRandom, tally: Tally) => Promise<void>;

/** What the fuzzer did and saw. */
interface Tally {
  cases: Map<string, number>;
  /** Connections that broke the protocol and were closed by the bank. */
  closedByBank: number;
  /** Connections that broke the protocol and were still open when the wait ran out. */
  leftOpen: string[];
  /** Answers to well-formed requests: all must be refusals. */
  refusals: Map<string, number>;
  accepted: string[];
}

function bytes(random: SeededRandom, length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = random.integer(0, 255);
  return out;
}

/** Flips, cuts or extends a byte string at random. */
function mutate(random: SeededRandom, input: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(input);
  switch (random.integer(0, 3)) {
    case 0:
      copy[random.integer(0, copy.length - 1)] ^= 1 << random.integer(0, 7);
      return copy;
    case 1:
      return copy.slice(0, random.integer(0, copy.length - 1));
    case 2:
      return new Uint8Array([...copy, ...bytes(random, random.integer(1, 40))]);
    default:
      copy[random.integer(0, copy.length - 1)] = random.integer(0, 255);
      return copy;
  }
}

async function expectClosed(conn: Deno.Conn, tally: Tally, what: string): Promise<void> {
  if (await waitForClose(conn, CLOSE_WAIT_MS) === "closed") tally.closedByBank++;
  else tally.leftOpen.push(what);
}

function connect(bank: HostileBank): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port: bank.port });
}

/** A socket whose next writes can be altered, under a real secure channel. */
interface TappedSocket {
  conn: Deno.TcpConn;
  channel: SecureChannel;
  /** Alters every write from now on. */
  tamper(change: (bytes: Uint8Array) => Uint8Array): void;
}

async function tappedSession(bank: HostileBank, random: SeededRandom): Promise<TappedSocket> {
  const spec = bank.setup.atms[random.integer(0, bank.setup.atms.length - 1)];
  const { atmId, psk } = await readCredential(spec.credentialPath);
  const conn = await connect(bank);
  let change: ((bytes: Uint8Array) => Uint8Array) | null = null;
  const tapped = new Proxy(conn, {
    get(target, property) {
      if (property === "write") {
        return (data: Uint8Array) => target.write(change ? change(data) : data);
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const channel = await connectChannel(tapped, { atmId, psk });
  return { conn, channel, tamper: (next) => change = next };
}

/** Requests a session that is not logged in may send; each must be refused, never carried out. */
function randomRequest(random: SeededRandom): Uint8Array {
  const id = crypto.randomUUID();
  const templates: unknown[] = [
    { id, op: "balance" },
    { id, op: "history" },
    { id, op: "logout" },
    { id, op: "deposit", amount: "10.00" },
    { id, op: "withdraw", amount: "5.00" },
    { id, op: "transfer", to: "c01", amount: "1.00" },
    { id, op: "login", user: "mallory", pin: "0000" },
    { id, op: "deposit", amount: "-1" },
    { id, op: "teleport" },
    { id: 7, op: "balance" },
    ["not", "an", "object"],
  ];
  const message = encodeMessage(random.pick(templates) as never);
  return random.integer(0, 2) === 0 ? mutate(random, message) : message;
}

const CASES: Record<string, FuzzCase> = {
  async noise(bank, random, tally) {
    const conn = await connect(bank);
    await conn.write(bytes(random, random.integer(1, 400))).catch(() => 0);
    if (random.integer(0, 1) === 0) await conn.closeWrite().catch(() => {});
    await expectClosed(conn, tally, "noise");
  },
  async mutatedHello(bank, random, tally) {
    const hello = encodeFrame(
      0x01,
      encodeAtmHello({
        atmId: bank.setup.atms[0].atmId,
        nonce: bytes(random, 32),
        publicKey: bytes(random, 32),
      }),
    );
    const conn = await connect(bank);
    await conn.write(mutate(random, hello)).catch(() => 0);
    if (random.integer(0, 1) === 0) await conn.write(bytes(random, 40)).catch(() => 0);
    await expectClosed(conn, tally, "mutatedHello");
  },
  async garbageAfterHandshake(bank, random, tally) {
    const session = await tappedSession(bank, random);
    const frame = encodeFrame(random.integer(0, 255), bytes(random, random.integer(0, 200)));
    await session.conn.write(random.integer(0, 3) === 0 ? frame.subarray(0, 3) : frame)
      .catch(() => 0);
    await expectClosed(session.conn, tally, "garbageAfterHandshake");
  },
  async tamperedRecord(bank, random, tally) {
    const session = await tappedSession(bank, random);
    session.tamper((data) => mutate(random, data));
    await session.channel.send(encodeMessage({ id: crypto.randomUUID(), op: "balance" }))
      .catch(() => {});
    await expectClosed(session.conn, tally, "tamperedRecord");
  },
  async randomRequests(bank, random, tally) {
    const session = await tappedSession(bank, random);
    for (let i = random.integer(1, 4); i > 0; i--) {
      const sent = await session.channel.send(randomRequest(random)).then(() => true, () => false);
      if (!sent) break;
      let payload: Uint8Array;
      try {
        payload = await session.channel.receive({ timeoutMs: ANSWER_WAIT_MS });
      } catch {
        break; // the bank closed the session over a malformed request
      }
      const response = decodeResponse(payload);
      if (response.ok) tally.accepted.push(JSON.stringify(response));
      else tally.refusals.set(response.error, (tally.refusals.get(response.error) ?? 0) + 1);
    }
    await session.channel.close();
  },
};

Deno.test("a live fuzzer never crashes the bank, never changes its ledger, and every bad connection is closed", async () => {
  await withHostileBank({
    args: ["--handshake-timeout-ms", String(HANDSHAKE_MS), "--idle-timeout-ms", "3000"],
  }, async (bank) => {
    const before = await ledgerOf(bank.setup.dataDir);
    const seed = crypto.getRandomValues(new Uint32Array(1))[0];
    console.log(`fuzz seed ${seed}`);
    const root = new SeededRandom(seed);
    const tally: Tally = {
      cases: new Map(),
      closedByBank: 0,
      leftOpen: [],
      refusals: new Map(),
      accepted: [],
    };
    const until = performance.now() + FUZZ_MS;
    await Promise.all(Array.from({ length: WORKERS }, async () => {
      const random = root.fork();
      while (performance.now() < until) {
        const name = random.pick(Object.keys(CASES));
        tally.cases.set(name, (tally.cases.get(name) ?? 0) + 1);
        await CASES[name](bank, random, tally);
      }
    }));
    console.log(
      `fuzz: cases ${JSON.stringify(Object.fromEntries(tally.cases))}, ` +
        `${tally.closedByBank} bad connections closed by the bank, refusals ` +
        JSON.stringify(Object.fromEntries(tally.refusals)),
    );
    deepStrictEqual(tally.leftOpen, [], "bad connections the bank left open");
    deepStrictEqual(tally.accepted, [], "requests carried out for a session not logged in");
    ok(tally.closedByBank > 0);
    ok(bank.run.running, `the bank died:\n${bank.run.logTail()}`);
    deepStrictEqual(bank.run.crashLines, []);
    // Still serving, and nothing changed: a read-only request, then the ledger as it was.
    const atm = await realAtm(bank, 0);
    equal((await atm.request({ op: "balance" })).ok, true);
    await atm.close();
    const after = await ledgerOf(bank.setup.dataDir);
    deepStrictEqual(after.entries, before.entries);
    deepStrictEqual([...after.balances], [...before.balances]);
  });
});
