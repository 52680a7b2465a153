import { assert, assertEquals, assertRejects } from "./_test_assert.ts";
import { channelPair, randomPsk, readToEnd, tcpPair } from "./_test_net.ts";
import { passThrough, proxiedPair, type Way, xorByte } from "./_test_proxy.ts";
import { toHex } from "./bytes.ts";
import { acceptChannel, connectChannel } from "./channel.ts";
import { FRAME_HEADER_BYTES, HANDSHAKE_FRAME_BYTES_MAX } from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import { encodeFrame, FrameType, readFrame } from "./frame.ts";
import { encodeAtmHello } from "./handshake_messages.ts";
import { generateX25519KeyPair } from "./x25519.ts";

const PSK = randomPsk();
const lookup = (id: string) => Promise.resolve(id === "atm-1" ? PSK : undefined);
const FAILURE_HEX = "0f00000000";

/** Settles a promise into its value or its error, so both sides of a failure can be checked. */
async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

function codeOf(error: unknown): string {
  return error instanceof ProtocolError ? error.code : `not a ProtocolError: ${String(error)}`;
}

Deno.test("connectChannel() and acceptChannel() agree over loopback TCP", async () => {
  const { atm, bank } = await channelPair();
  assertEquals(atm.sessionId, bank.sessionId);
  assertEquals(atm.sessionId.length, 16);
  assertEquals([atm.atmId, bank.atmId], ["atm-1", "atm-1"]);
  await atm.send(new TextEncoder().encode("hello bank"));
  assertEquals(new TextDecoder().decode(await bank.receive()), "hello bank");
  await bank.send(new TextEncoder().encode("hello atm"));
  assertEquals(new TextDecoder().decode(await atm.receive()), "hello atm");
  await atm.close();
  await assertRejects(bank.receive(), ProtocolError, "closed");
  await bank.close();
});

Deno.test("two handshakes with the same key get different session ids", async () => {
  const first = await channelPair();
  const second = await channelPair();
  assert(first.atm.sessionId !== second.atm.sessionId);
  await Promise.all([first.atm, first.bank, second.atm, second.bank].map((c) => c.close()));
});

Deno.test("a wrong key on the ATM fails on both sides", async () => {
  const { client, server } = await tcpPair();
  const [atm, bank] = await Promise.all([
    settle(connectChannel(client, { atmId: "atm-1", psk: randomPsk() })),
    settle(acceptChannel(server, { lookupPsk: lookup })),
  ]);
  assertEquals(codeOf(atm.error), "bad_mac");
  assertEquals(codeOf(bank.error), "handshake_failed");
});

Deno.test("a wrong key at the bank fails on both sides", async () => {
  const { client, server } = await tcpPair();
  const [atm, bank] = await Promise.all([
    settle(connectChannel(client, { atmId: "atm-1", psk: PSK })),
    settle(acceptChannel(server, { lookupPsk: () => Promise.resolve(randomPsk()) })),
  ]);
  assertEquals(codeOf(atm.error), "bad_mac");
  assertEquals(codeOf(bank.error), "handshake_failed");
});

Deno.test("an unknown ATM id fails on both sides and is reported as unknown_atm", async () => {
  const { client, server } = await tcpPair();
  const [atm, bank] = await Promise.all([
    settle(connectChannel(client, { atmId: "ghost", psk: PSK })),
    settle(acceptChannel(server, { lookupPsk: lookup })),
  ]);
  assertEquals(codeOf(atm.error), "bad_mac");
  assertEquals(codeOf(bank.error), "unknown_atm");
});

/** How one tampered handshake ended on each side. */
interface TamperOutcome {
  atmCode: string;
  bankCode: string;
  /** True when connectChannel() resolved (the ATM had sent its finished message). */
  atmConnected: boolean;
}

/**
 * Runs one handshake through a proxy that XORs one byte of one message and relays everything else,
 * so only the protocol can notice. An ATM that believes it connected gets one receive() to learn
 * the bank's verdict: the handshake has three messages, so that verdict comes after the last one.
 */
async function tamperedHandshake(
  target: { way: Way; index: number },
  offset: number,
  mask: number,
  timeoutMs: number,
): Promise<TamperOutcome> {
  const proxy = await proxiedPair(xorByte(target, offset, mask));
  const [atm, bank] = await Promise.all([
    settle(connectChannel(proxy.atmConn, { atmId: "atm-1", psk: PSK, timeoutMs })),
    settle(acceptChannel(proxy.bankConn, { lookupPsk: lookup, timeoutMs })),
  ]);
  // A bank that wrongly accepted closes at once, so the ATM's receive() ends without waiting.
  await bank.value?.close();
  let atmError = atm.error;
  if (atm.value) {
    atmError = (await settle(atm.value.receive({ timeoutMs: 5_000 }))).error;
    await atm.value.close();
  }
  await proxy.done;
  return { atmCode: codeOf(atmError), bankCode: codeOf(bank.error), atmConnected: !!atm.value };
}

/** One handshake message as the tamper test sees it. */
interface TamperedMessage {
  name: string;
  way: Way;
  index: number;
  frameBytes: number;
  /** [ATM code, bank code] pairs allowed when a body byte changes. */
  bodyOutcomes: string[][];
  /** Which side reads this message. */
  receiver: "atm" | "bank";
}

const TAMPERED_MESSAGES: TamperedMessage[] = [
  {
    name: "ATM hello",
    way: "to_bank",
    index: 0,
    frameBytes: FRAME_HEADER_BYTES + 2 + "atm-1".length + 64,
    // A changed id, nonce or key: the bank replies and the ATM's check of the reply fails; a
    // changed id that is still well-formed is logged as unknown; a broken layout is malformed.
    bodyOutcomes: [
      ["bad_mac", "handshake_failed"],
      ["bad_mac", "unknown_atm"],
      ["handshake_failed", "malformed"],
    ],
    receiver: "bank",
  },
  {
    name: "bank reply",
    way: "to_atm",
    index: 0,
    frameBytes: FRAME_HEADER_BYTES + 96,
    bodyOutcomes: [["bad_mac", "handshake_failed"]],
    receiver: "atm",
  },
  {
    name: "ATM finished",
    way: "to_bank",
    index: 1,
    frameBytes: FRAME_HEADER_BYTES + 32,
    bodyOutcomes: [["handshake_failed", "bad_mac"]],
    receiver: "bank",
  },
];

/** Checks one outcome against what docs/protocol.md says must happen; returns a problem or "". */
function tamperProblem(message: TamperedMessage, offset: number, outcome: TamperOutcome): string {
  const pair = [outcome.atmCode, outcome.bankCode];
  const receiverCode = message.receiver === "atm" ? outcome.atmCode : outcome.bankCode;
  const senderCode = message.receiver === "atm" ? outcome.bankCode : outcome.atmCode;
  if (outcome.atmConnected !== (message.name === "ATM finished")) {
    return `ATM connected: ${outcome.atmConnected}`;
  }
  if (offset === 0) {
    // The type byte: the reader refuses the frame and tells the peer with the failure message.
    const ok = receiverCode === "unexpected_message" && senderCode === "handshake_failed";
    return ok ? "" : `type byte gave ${pair}`;
  }
  if (offset < FRAME_HEADER_BYTES) {
    // The length: too large, or a body that never completes (timeout) or comes out short.
    const receiverOk = ["frame_too_large", "timeout", "truncated", "malformed"].includes(
      receiverCode,
    );
    const senderOk = ["closed", "timeout", "handshake_failed"].includes(senderCode);
    return receiverOk && senderOk ? "" : `length byte gave ${pair}`;
  }
  const ok = message.bodyOutcomes.some((allowed) => allowed.join() === pair.join());
  return ok ? "" : `body byte gave ${pair}`;
}

Deno.test("flipping any single byte of each handshake message fails on both sides", async () => {
  for (const message of TAMPERED_MESSAGES) {
    for (let offset = 0; offset < message.frameBytes; offset++) {
      // Every bit of the byte, then one bit of it: both must be caught by the protocol.
      for (const mask of [0xff, 1 << (offset % 8)]) {
        // A changed length can leave a reader waiting for bytes that never come: keep it short.
        const timeoutMs = offset > 0 && offset < FRAME_HEADER_BYTES ? 400 : 5_000;
        const target = { way: message.way, index: message.index };
        const outcome = await tamperedHandshake(target, offset, mask, timeoutMs);
        const problem = tamperProblem(message, offset, outcome);
        assert(problem === "", `${message.name} byte ${offset} ^ ${mask}: ${problem}`);
      }
    }
  }
});

/** Records the frames of one real handshake, by direction, through a relaying proxy. */
async function recordHandshake(): Promise<Record<Way, Uint8Array[]>> {
  const recorded: Record<Way, Uint8Array[]> = { to_bank: [], to_atm: [] };
  const proxy = await proxiedPair((way, index, frame) => {
    recorded[way].push(frame);
    return passThrough(way, index, frame);
  });
  const [atm, bank] = await Promise.all([
    connectChannel(proxy.atmConn, { atmId: "atm-1", psk: PSK }),
    acceptChannel(proxy.bankConn, { lookupPsk: lookup }),
  ]);
  await atm.close();
  await bank.close();
  await proxy.done;
  assertEquals(recorded.to_bank.map((frame) => frame[0]), [
    FrameType.ATM_HELLO,
    FrameType.ATM_FINISHED,
    FrameType.RECORD_CLOSE,
  ]);
  assertEquals(recorded.to_atm[0][0], FrameType.BANK_REPLY);
  return recorded;
}

Deno.test("a replayed ATM hello and finished fail at a new bank session", async () => {
  const recorded = await recordHandshake();

  // Replay the ATM's two messages to a new bank session.
  const { client, server } = await tcpPair();
  const accepting = settle(acceptChannel(server, { lookupPsk: lookup }));
  await client.write(recorded.to_bank[0]);
  const reply = await readFrame(client, { frameBytesMax: HANDSHAKE_FRAME_BYTES_MAX });
  assertEquals(reply.type, FrameType.BANK_REPLY);
  // The bank answers the old hello with a fresh nonce and key, so the old finished cannot fit.
  const oldReply = recorded.to_atm[0].subarray(FRAME_HEADER_BYTES);
  assert(toHex(reply.body.subarray(0, 64)) !== toHex(oldReply.subarray(0, 64)), "fresh reply");
  await client.write(recorded.to_bank[1]);
  const outcome = await accepting;
  // A bank that wrongly accepted is closed here, so the read below ends either way.
  await outcome.value?.close();
  assertEquals(toHex(await readToEnd(client)), FAILURE_HEX);
  assertEquals(codeOf(outcome.error), "bad_mac");
});

Deno.test("a replayed bank reply fails at a new ATM session", async () => {
  const recorded = await recordHandshake();

  // A fake bank answers a new ATM session with the recorded reply.
  const { client, server } = await tcpPair();
  const connecting = settle(connectChannel(client, { atmId: "atm-1", psk: PSK }));
  const hello = await readFrame(server, { frameBytesMax: HANDSHAKE_FRAME_BYTES_MAX });
  assertEquals(hello.type, FrameType.ATM_HELLO);
  await server.write(recorded.to_atm[0]);
  const outcome = await connecting;
  await outcome.value?.close();
  // The ATM's fresh nonce and key change every key, so the old MAC fails; the bank is told.
  assertEquals(codeOf(outcome.error), "bad_mac");
  assertEquals(toHex(await readToEnd(server)), FAILURE_HEX);
});

/** Speaks the handshake by hand: a valid hello, then a finished with a random MAC. */
async function rawAttempt(atmId: string, psk: Uint8Array) {
  const { client, server } = await tcpPair();
  const accepting = settle(
    acceptChannel(server, { lookupPsk: () => lookup(atmId).then(() => psk) }),
  );
  const ephemeral = await generateX25519KeyPair();
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  await client.write(encodeFrame(
    FrameType.ATM_HELLO,
    encodeAtmHello({ atmId, nonce, publicKey: ephemeral.publicKey }),
  ));
  const reply = await readFrame(client, { frameBytesMax: HANDSHAKE_FRAME_BYTES_MAX });
  await client.write(
    encodeFrame(FrameType.ATM_FINISHED, crypto.getRandomValues(new Uint8Array(32))),
  );
  const after = await readToEnd(client);
  return { reply, after: toHex(after), bankError: (await accepting).error };
}

Deno.test("an unknown ATM id puts the same bytes on the wire as a wrong key", async () => {
  const unknownLookup = await rawAttempt("ghost", undefined as unknown as Uint8Array);
  const wrongKey = await rawAttempt("atm-1", PSK);
  assertEquals(unknownLookup.reply.type, wrongKey.reply.type);
  assertEquals(unknownLookup.reply.body.length, wrongKey.reply.body.length);
  assertEquals(unknownLookup.after, FAILURE_HEX);
  assertEquals(wrongKey.after, FAILURE_HEX);
  assertEquals(codeOf(unknownLookup.bankError), "unknown_atm");
  assertEquals(codeOf(wrongKey.bankError), "bad_mac");
});

Deno.test("acceptChannel() refuses an all-zero X25519 key with malformed and the failure message", async () => {
  const { client, server } = await tcpPair();
  const accepting = settle(acceptChannel(server, { lookupPsk: lookup }));
  const hello = encodeAtmHello({
    atmId: "atm-1",
    nonce: new Uint8Array(32),
    publicKey: new Uint8Array(32),
  });
  await client.write(encodeFrame(FrameType.ATM_HELLO, hello));
  assertEquals(toHex(await readToEnd(client)), FAILURE_HEX);
  assertEquals(codeOf((await accepting).error), "malformed");
});

Deno.test("acceptChannel() refuses wrong-length hellos, bad versions and bad ids", async () => {
  const good = encodeAtmHello({
    atmId: "atm-1",
    nonce: new Uint8Array(32),
    publicKey: (await generateX25519KeyPair()).publicKey,
  });
  const badVersion = good.slice();
  badVersion[0] = 2;
  const badId = good.slice();
  badId[2] = "/".charCodeAt(0);
  const cases = [
    good.subarray(0, good.length - 1),
    new Uint8Array([...good, 0]),
    badVersion,
    badId,
  ];
  for (const body of cases) {
    const { client, server } = await tcpPair();
    const accepting = settle(acceptChannel(server, { lookupPsk: lookup }));
    await client.write(encodeFrame(FrameType.ATM_HELLO, body));
    assertEquals(toHex(await readToEnd(client)), FAILURE_HEX);
    assertEquals(codeOf((await accepting).error), "malformed");
  }
});

Deno.test("acceptChannel() refuses a record before the handshake as unexpected_message", async () => {
  const { client, server } = await tcpPair();
  const accepting = settle(acceptChannel(server, { lookupPsk: lookup }));
  await client.write(encodeFrame(FrameType.RECORD_DATA, new Uint8Array(64)));
  assertEquals(toHex(await readToEnd(client)), FAILURE_HEX);
  assertEquals(codeOf((await accepting).error), "unexpected_message");
});

Deno.test("acceptChannel() refuses an oversize hello length without reading it", async () => {
  const { client, server } = await tcpPair();
  const accepting = settle(acceptChannel(server, { lookupPsk: lookup }));
  await client.write(new Uint8Array([FrameType.ATM_HELLO, 0xff, 0xff, 0xff, 0xff]));
  // A framing error closes the connection at once, without the failure message.
  assertEquals(toHex(await readToEnd(client)), "");
  assertEquals(codeOf((await accepting).error), "frame_too_large");
});

Deno.test("acceptChannel() times out on a silent ATM and closes the connection", async () => {
  const { client, server } = await tcpPair();
  const accepting = settle(acceptChannel(server, { lookupPsk: lookup, timeoutMs: 50 }));
  assertEquals(codeOf((await accepting).error), "timeout");
  assertEquals((await readToEnd(client)).length, 0);
});

Deno.test("connectChannel() times out on a silent bank and closes the connection", async () => {
  const { client, server } = await tcpPair();
  const connecting = settle(connectChannel(client, { atmId: "atm-1", psk: PSK, timeoutMs: 50 }));
  assertEquals(codeOf((await connecting).error), "timeout");
  const sent = await readToEnd(server);
  assertEquals(sent[0], FrameType.ATM_HELLO);
});

Deno.test("connectChannel() refuses bad options without touching the connection", async () => {
  const { client, server } = await tcpPair();
  await assertRejects(connectChannel(client, { atmId: "bad id", psk: PSK }), RangeError);
  await assertRejects(
    connectChannel(client, { atmId: "atm-1", psk: new Uint8Array(31) }),
    RangeError,
  );
  await assertRejects(
    connectChannel(client, { atmId: "atm-1", psk: PSK, timeoutMs: -1 }),
    RangeError,
  );
  await assertRejects(
    acceptChannel(server, { lookupPsk: lookup, frameBytesMax: 10 }),
    RangeError,
  );
  // Still open: a frame still goes through.
  await client.write(encodeFrame(FrameType.RECORD_DATA, new Uint8Array(1)));
  assertEquals((await readFrame(server, { frameBytesMax: 16 })).body.length, 1);
  client.close();
  server.close();
});

Deno.test("acceptChannel() reports a failing lookup as its own error after the failure message", async () => {
  const { client, server } = await tcpPair();
  const accepting = settle(acceptChannel(server, {
    lookupPsk: () => Promise.reject(new Error("database is down")),
  }));
  const hello = encodeAtmHello({
    atmId: "atm-1",
    nonce: new Uint8Array(32),
    publicKey: (await generateX25519KeyPair()).publicKey,
  });
  await client.write(encodeFrame(FrameType.ATM_HELLO, hello));
  assertEquals(toHex(await readToEnd(client)), FAILURE_HEX);
  const { error } = await accepting;
  assert(error instanceof Error && error.message === "database is down", String(error));
});
