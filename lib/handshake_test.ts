import { assert, assertEquals, assertRejects } from "./_test_assert.ts";
import { channelPair, randomPsk, readToEnd, tcpPair } from "./_test_net.ts";
import { flipBit, passThrough, proxiedPair, type Way } from "./_test_proxy.ts";
import { toHex } from "./bytes.ts";
import { acceptChannel, connectChannel } from "./channel.ts";
import { FRAME_HEADER_BYTES } from "./constants.ts";
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

/** Runs one handshake through a tampering proxy and returns how each side ended. */
async function tamperedHandshake(way: Way, index: number, offset: number, bit: number) {
  const proxy = await proxiedPair(flipBit({ way, index }, offset, bit));
  const [atm, bank] = await Promise.all([
    settle(connectChannel(proxy.atmConn, { atmId: "atm-1", psk: PSK, timeoutMs: 300 })),
    settle(acceptChannel(proxy.bankConn, { lookupPsk: lookup, timeoutMs: 300 })),
  ]);
  let atmError = atm.error;
  if (atm.value) {
    // The handshake has three messages: a rejected finished shows on the ATM's first receive.
    atmError = (await settle(atm.value.receive({ timeoutMs: 1000 }))).error;
    await atm.value.close();
  }
  await bank.value?.close();
  await proxy.done;
  return { atmError, bankError: bank.error };
}

Deno.test("flipping any byte of any handshake message fails on both sides", async () => {
  const hello = encodeFrame(FrameType.ATM_HELLO, new Uint8Array(2 + 5 + 64));
  const messages: { way: Way; index: number; bytes: number; name: string }[] = [
    { way: "to_bank", index: 0, bytes: hello.length, name: "ATM hello" },
    { way: "to_atm", index: 0, bytes: FRAME_HEADER_BYTES + 96, name: "bank reply" },
    { way: "to_bank", index: 1, bytes: FRAME_HEADER_BYTES + 32, name: "ATM finished" },
  ];
  for (const message of messages) {
    for (let offset = 0; offset < message.bytes; offset++) {
      // Low bit in the body; in the header the low bit too, which keeps lengths near the truth.
      const outcome = await tamperedHandshake(message.way, message.index, offset, offset % 8);
      const where = `${message.name} byte ${offset}`;
      assert(outcome.bankError instanceof ProtocolError, `${where}: bank accepted`);
      assert(outcome.atmError instanceof ProtocolError, `${where}: ATM went on`);
    }
  }
});

Deno.test("a replayed ATM hello and finished fail at a new bank session", async () => {
  // Record a real handshake.
  const recorded: Uint8Array[] = [];
  const proxy = await proxiedPair((way, index, frame) => {
    if (way === "to_bank" && index < 2) recorded.push(frame);
    return passThrough(way, index, frame);
  });
  const [atm, bank] = await Promise.all([
    connectChannel(proxy.atmConn, { atmId: "atm-1", psk: PSK }),
    acceptChannel(proxy.bankConn, { lookupPsk: lookup }),
  ]);
  await atm.close();
  await bank.close();
  await proxy.done;
  assertEquals(recorded.length, 2);

  // Replay it to a new bank session.
  const { client, server } = await tcpPair();
  const accepting = settle(acceptChannel(server, { lookupPsk: lookup }));
  await client.write(recorded[0]);
  const reply = await readFrame(client, { frameBytesMax: 256 });
  assertEquals(reply.type, FrameType.BANK_REPLY);
  await client.write(recorded[1]);
  assertEquals(toHex(await readToEnd(client)), FAILURE_HEX);
  assertEquals(codeOf((await accepting).error), "bad_mac");
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
  const reply = await readFrame(client, { frameBytesMax: 256 });
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
