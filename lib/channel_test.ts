import fc from "fast-check";
import { assert, assertEquals, assertRejects } from "./_test_assert.ts";
import { channelPair, randomPsk } from "./_test_net.ts";
import { passThrough, proxiedPair, type Tamper, type Way } from "./_test_proxy.ts";
import { toHex } from "./bytes.ts";
import { acceptChannel, connectChannel, type SecureChannel } from "./channel.ts";
import {
  FRAME_HEADER_BYTES,
  RECORD_PAYLOAD_BYTES_MAX,
  recordPayloadBytesMax,
} from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import { encodeFrame, FrameType } from "./frame.ts";

/** Handshake frames per direction: records start after them. */
const HANDSHAKE_FRAMES = { to_bank: 2, to_atm: 1 } as const;

/** A session whose records in one direction (towards the bank by default) go through `tamper`. */
async function tamperedSession(tamper: Tamper, target: Way = "to_bank") {
  const psk = randomPsk();
  const proxy = await proxiedPair((way, index, frame) => {
    const first = HANDSHAKE_FRAMES[way];
    if (way !== target || index < first) return passThrough(way, index, frame);
    return tamper(way, index - first, frame);
  });
  const [atm, bank] = await Promise.all([
    connectChannel(proxy.atmConn, { atmId: "atm-1", psk }),
    acceptChannel(proxy.bankConn, { lookupPsk: () => Promise.resolve(psk) }),
  ]);
  // The receiving end of the tampered direction, and the sending end.
  const [sender, receiver] = target === "to_bank" ? [atm, bank] : [bank, atm];
  return { atm, bank, sender, receiver, done: proxy.done };
}

async function closeAll(...channels: SecureChannel[]): Promise<void> {
  await Promise.all(channels.map((channel) => channel.close()));
}

function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

Deno.test("SecureChannel carries empty, small and largest payloads both ways", async () => {
  const { atm, bank } = await channelPair();
  const sizes = [0, 1, 15, 16, 17, 1000, RECORD_PAYLOAD_BYTES_MAX];
  for (const size of sizes) {
    const payload = crypto.getRandomValues(new Uint8Array(size));
    await atm.send(payload);
    assertEquals(toHex(await bank.receive()), toHex(payload), `to bank, ${size} bytes`);
    await bank.send(payload);
    assertEquals(toHex(await atm.receive()), toHex(payload), `to ATM, ${size} bytes`);
  }
  await closeAll(atm, bank);
});

Deno.test("SecureChannel.send() refuses an oversize payload and stays usable", async () => {
  const { atm, bank } = await channelPair({ frameBytesMax: 1024 });
  await assertRejects(atm.send(new Uint8Array(RECORD_PAYLOAD_BYTES_MAX + 1)), RangeError);
  await atm.send(bytesOf("still here"));
  assertEquals(new TextDecoder().decode(await bank.receive()), "still here");
  await closeAll(atm, bank);
});

Deno.test("SecureChannel.send() keeps the order of concurrent sends", async () => {
  const { atm, bank } = await channelPair();
  await Promise.all(Array.from({ length: 50 }, (_, index) => atm.send(bytesOf(`m${index}`))));
  for (let index = 0; index < 50; index++) {
    assertEquals(new TextDecoder().decode(await bank.receive()), `m${index}`);
  }
  await closeAll(atm, bank);
});

Deno.test("SecureChannel.close() sends an authenticated close and is idempotent", async () => {
  const { atm, bank } = await channelPair();
  await atm.send(bytesOf("last"));
  await Promise.all([atm.close(), atm.close()]);
  assertEquals(new TextDecoder().decode(await bank.receive()), "last");
  const error = await assertRejects(bank.receive(), ProtocolError, "closed");
  assert(error.message.includes("authenticated"), error.message);
  await assertRejects(atm.send(bytesOf("after close")), ProtocolError, "closed");
  await assertRejects(atm.receive(), ProtocolError, "closed");
  await bank.close();
});

Deno.test("SecureChannel.receive() times out with timeout and closes the channel", async () => {
  const { atm, bank } = await channelPair();
  await assertRejects(bank.receive({ timeoutMs: 30 }), ProtocolError, "timeout");
  await assertRejects(bank.receive(), ProtocolError, "closed");
  await assertRejects(bank.send(bytesOf("late")), ProtocolError, "closed");
  // The ATM is told with an authenticated close record, not a bare drop.
  const error = await assertRejects(atm.receive({ timeoutMs: 5_000 }), ProtocolError, "closed");
  assert(error.message.includes("authenticated"), error.message);
  await closeAll(atm, bank);
});

Deno.test("SecureChannel.receive() times out on a half-sent record and closes the channel", async () => {
  const { atm, bank, done } = await tamperedSession((_way, _index, frame) => ({
    send: [frame.subarray(0, FRAME_HEADER_BYTES + 20)],
  }));
  await atm.send(bytesOf("never completes"));
  await assertRejects(bank.receive({ timeoutMs: 100 }), ProtocolError, "timeout");
  await assertRejects(bank.receive(), ProtocolError, "closed");
  await assertRejects(atm.receive({ timeoutMs: 5_000 }), ProtocolError, "closed");
  await closeAll(atm, bank);
  await done;
});

Deno.test("SecureChannel.receive() refuses a bad timeout and stays open", async () => {
  const { atm, bank } = await channelPair();
  await assertRejects(bank.receive({ timeoutMs: 0 }), RangeError);
  await atm.send(bytesOf("still open"));
  assertEquals(new TextDecoder().decode(await bank.receive()), "still open");
  await closeAll(atm, bank);
});

Deno.test("SecureChannel.receive() refuses a second concurrent receive", async () => {
  const { atm, bank } = await channelPair();
  const first = bank.receive();
  await assertRejects(bank.receive(), Error);
  await atm.send(bytesOf("one"));
  assertEquals(new TextDecoder().decode(await first), "one");
  await closeAll(atm, bank);
});

Deno.test("SecureChannel enforces the per-direction record limit on send and receive", async () => {
  const { atm, bank } = await channelPair({ recordsMax: 2 });
  await atm.send(bytesOf("1"));
  await atm.send(bytesOf("2"));
  await assertRejects(atm.send(bytesOf("3")), ProtocolError, "sequence_exhausted");
  await bank.receive();
  await bank.receive();
  // The ATM's session is over; the bank sees its socket close.
  await assertRejects(bank.receive(), ProtocolError, "closed");
  await closeAll(atm, bank);
});

Deno.test("SecureChannel.receive() closes a session that passes its own record limit", async () => {
  const psk = randomPsk();
  const { tcpPair } = await import("./_test_net.ts");
  const { client, server } = await tcpPair();
  const [atm, bank] = await Promise.all([
    connectChannel(client, { atmId: "atm-1", psk }),
    acceptChannel(server, { lookupPsk: () => Promise.resolve(psk), recordsMax: 1 }),
  ]);
  await atm.send(bytesOf("1"));
  await atm.send(bytesOf("2"));
  await bank.receive();
  await assertRejects(bank.receive(), ProtocolError, "sequence_exhausted");
  await assertRejects(bank.receive(), ProtocolError, "closed");
  await closeAll(atm, bank);
});

Deno.test("a replayed record is rejected with bad_mac and closes the session", async () => {
  const { atm, bank, done } = await tamperedSession((_way, index, frame) => ({
    send: index === 0 ? [frame, frame] : [frame],
  }));
  await atm.send(bytesOf("pay 10"));
  assertEquals(new TextDecoder().decode(await bank.receive()), "pay 10");
  await assertRejects(bank.receive(), ProtocolError, "bad_mac");
  await assertRejects(bank.receive(), ProtocolError, "closed");
  await closeAll(atm, bank);
  await done;
});

Deno.test("reordered records are rejected with bad_mac", async () => {
  let held: Uint8Array | undefined;
  const { atm, bank, done } = await tamperedSession((_way, index, frame) => {
    if (index === 0) {
      held = frame;
      return { send: [] };
    }
    return { send: index === 1 ? [frame, held!] : [frame] };
  });
  await atm.send(bytesOf("first"));
  await atm.send(bytesOf("second"));
  await assertRejects(bank.receive(), ProtocolError, "bad_mac");
  await closeAll(atm, bank);
  await done;
});

Deno.test("a dropped record makes the next one fail with bad_mac", async () => {
  const { atm, bank, done } = await tamperedSession((_way, index, frame) => ({
    send: index === 0 ? [] : [frame],
  }));
  await atm.send(bytesOf("dropped"));
  await atm.send(bytesOf("next"));
  await assertRejects(bank.receive(), ProtocolError, "bad_mac");
  await closeAll(atm, bank);
  await done;
});

Deno.test("a truncated record is rejected with truncated", async () => {
  const { atm, bank, done } = await tamperedSession((_way, _index, frame) => ({
    send: [frame.subarray(0, frame.length - 7)],
    end: true,
  }));
  await atm.send(bytesOf("cut short"));
  await assertRejects(bank.receive(), ProtocolError, "truncated");
  await closeAll(atm, bank);
  await done;
});

Deno.test("an oversize record frame is rejected before its body with frame_too_large", async () => {
  const { atm, bank, done } = await tamperedSession(() => ({
    send: [new Uint8Array([FrameType.RECORD_DATA, 0xff, 0xff, 0xff, 0xff])],
  }));
  await atm.send(bytesOf("x"));
  await assertRejects(bank.receive(), ProtocolError, "frame_too_large");
  await closeAll(atm, bank);
  await done;
});

Deno.test("a record frame above the bank's frameBytesMax is rejected", async () => {
  const psk = randomPsk();
  const { tcpPair } = await import("./_test_net.ts");
  const { client, server } = await tcpPair();
  const [atm, bank] = await Promise.all([
    connectChannel(client, { atmId: "atm-1", psk }),
    acceptChannel(server, { lookupPsk: () => Promise.resolve(psk), frameBytesMax: 1024 }),
  ]);
  await atm.send(new Uint8Array(recordPayloadBytesMax(1024) + 1));
  await assertRejects(bank.receive(), ProtocolError, "frame_too_large");
  await closeAll(atm, bank);
});

Deno.test("a data record relabelled as a close record is rejected with bad_mac", async () => {
  const { atm, bank, done } = await tamperedSession((_way, _index, frame) => {
    const copy = frame.slice();
    copy[0] = FrameType.RECORD_CLOSE;
    return { send: [copy] };
  });
  await atm.send(new Uint8Array(0));
  await assertRejects(bank.receive(), ProtocolError, "bad_mac");
  await closeAll(atm, bank);
  await done;
});

Deno.test("records from the bank are checked the same way: a replayed one fails at the ATM", async () => {
  const { atm, bank, done } = await tamperedSession((_way, index, frame) => ({
    send: index === 0 ? [frame, frame] : [frame],
  }), "to_atm");
  await bank.send(bytesOf("balance 10.00"));
  assertEquals(new TextDecoder().decode(await atm.receive()), "balance 10.00");
  await assertRejects(atm.receive(), ProtocolError, "bad_mac");
  await closeAll(atm, bank);
  await done;
});

Deno.test("an unknown frame type after the handshake is unexpected_message", async () => {
  const { atm, bank, done } = await tamperedSession((_way, _index, frame) => {
    const copy = frame.slice();
    copy[0] = 0x42;
    return { send: [copy] };
  });
  await atm.send(bytesOf("x"));
  await assertRejects(bank.receive(), ProtocolError, "unexpected_message");
  await closeAll(atm, bank);
  await done;
});

Deno.test("property: random payloads arrive unchanged and in order", async () => {
  const { atm, bank } = await channelPair();
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 2048 }), { minLength: 1, maxLength: 5 }),
      async (payloads) => {
        for (const payload of payloads) await atm.send(payload);
        for (const payload of payloads) {
          if (toHex(await bank.receive()) !== toHex(payload)) return false;
        }
        return true;
      },
    ),
    { numRuns: 100 },
  );
  await closeAll(atm, bank);
});

Deno.test("property: one flipped bit anywhere in a record, either way, is rejected", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 300 }),
      fc.nat(),
      fc.integer({ min: 0, max: 7 }),
      fc.constantFrom<Way>("to_bank", "to_atm"),
      async (payload, position, bit, way) => {
        let flippedAt = -1;
        const session = await tamperedSession((_way, _index, frame) => {
          const copy = frame.slice();
          flippedAt = position % copy.length;
          copy[flippedAt] ^= 1 << bit;
          return { send: [copy], end: true };
        }, way);
        await session.sender.send(payload);
        const outcome = await session.receiver.receive().then(() => "delivered", (error) => error);
        await closeAll(session.atm, session.bank);
        await session.done;
        if (!(outcome instanceof ProtocolError)) return false;
        // Past the header nothing can be changed without the MAC noticing.
        return flippedAt < FRAME_HEADER_BYTES || outcome.code === "bad_mac";
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("property: a random mutation of a record (cut, extend, overwrite) is rejected", async () => {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant("cut" as const), keep: fc.nat() }),
    fc.record({ kind: fc.constant("extend" as const), extra: fc.uint8Array({ minLength: 1 }) }),
    fc.record({
      kind: fc.constant("overwrite" as const),
      at: fc.nat(),
      value: fc.integer({ min: 1, max: 255 }),
    }),
  );
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), mutation, async (payload, change) => {
      const { atm, bank, done } = await tamperedSession((_way, _index, frame) => {
        // Header rebuilt from the mutated body, so the frame stays well-formed and the record
        // layer alone must catch it.
        let body = frame.subarray(FRAME_HEADER_BYTES);
        if (change.kind === "cut") body = body.subarray(0, change.keep % body.length);
        if (change.kind === "extend") body = new Uint8Array([...body, ...change.extra]);
        if (change.kind === "overwrite") {
          body = body.slice();
          body[change.at % body.length] ^= change.value;
        }
        return { send: [encodeFrame(frame[0], body)], end: true };
      });
      await atm.send(payload);
      const outcome = await bank.receive().then(() => "delivered", (error) => error);
      await closeAll(atm, bank);
      await done;
      return outcome instanceof ProtocolError &&
        ["bad_mac", "malformed"].includes(outcome.code);
    }),
    { numRuns: 60 },
  );
});
