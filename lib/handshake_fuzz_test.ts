/**
 * Property-based fuzzing of the handshake with fast-check: the three message parsers on
 * arbitrary and mutated bytes, and the bank side (`acceptChannel`) over real loopback TCP fed
 * arbitrary frame sequences. The bank must refuse every one of them with a ProtocolError, close
 * the connection, and never hand out a channel.
 */

import fc from "fast-check";
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { randomPsk, readToEnd, tcpPair } from "./_test_net.ts";
import { toHex } from "./bytes.ts";
import { acceptChannel } from "./channel.ts";
import { ATM_ID_PATTERN, MAC_BYTES, NONCE_BYTES, X25519_KEY_BYTES } from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import { encodeFrame, FrameType } from "./frame.ts";
import {
  encodeAtmHello,
  encodeBankReply,
  parseAtmFinished,
  parseAtmHello,
  parseBankReply,
} from "./handshake_messages.ts";
import { generateX25519KeyPair } from "./x25519.ts";

/** Runs of the pure parser properties. */
const PARSER_RUNS = 1_000;
/** Runs of the TCP property: each one is a real connection and a real handshake attempt. */
const TCP_RUNS = 60;

const PSK = randomPsk();
const EPHEMERAL = await generateX25519KeyPair();

function validHello(atmId: string): Uint8Array {
  return encodeAtmHello({
    atmId,
    nonce: crypto.getRandomValues(new Uint8Array(NONCE_BYTES)),
    publicKey: EPHEMERAL.publicKey,
  });
}

/** A valid hello of the registered ATM, with one of several mutations applied. */
const mutatedHello = fc.record({
  cut: fc.nat(),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
  extra: fc.uint8Array({ minLength: 1, maxLength: 40 }),
  mutation: fc.constantFrom("none", "cut", "extend", "overwrite"),
}).map(({ cut, at, value, extra, mutation }) => {
  const hello = validHello("atm-1");
  if (mutation === "cut") return hello.slice(0, cut % hello.length);
  if (mutation === "extend") return new Uint8Array([...hello, ...extra]);
  if (mutation === "overwrite") hello[at % hello.length] = value;
  return hello;
});

function isMalformed(error: unknown): boolean {
  return error instanceof ProtocolError && error.code === "malformed";
}

Deno.test("property: parseAtmHello() returns a hello that re-encodes to its input, or malformed", () => {
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 140 }), mutatedHello), (body) => {
      let hello;
      try {
        hello = parseAtmHello(body);
      } catch (error) {
        ok(isMalformed(error), `unexpected error ${error}`);
        return;
      }
      ok(ATM_ID_PATTERN.test(hello.atmId));
      equal(hello.nonce.length, NONCE_BYTES);
      equal(hello.publicKey.length, X25519_KEY_BYTES);
      equal(toHex(encodeAtmHello(hello)), toHex(body));
    }),
    { numRuns: PARSER_RUNS },
  );
});

Deno.test("property: parseBankReply() and parseAtmFinished() accept exactly their sizes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 140 }), (body) => {
      try {
        const reply = parseBankReply(body);
        deepStrictEqual(encodeBankReply(reply), body);
      } catch (error) {
        ok(isMalformed(error), `unexpected error ${error}`);
        ok(body.length !== NONCE_BYTES + X25519_KEY_BYTES + MAC_BYTES);
      }
      try {
        deepStrictEqual(parseAtmFinished(body), body);
      } catch (error) {
        ok(isMalformed(error), `unexpected error ${error}`);
        ok(body.length !== MAC_BYTES);
      }
    }),
    { numRuns: PARSER_RUNS },
  );
});

/** One frame an attacker might send during the handshake. */
const hostileFrame = fc.oneof(
  fc.record({
    type: fc.constantFrom(
      FrameType.ATM_HELLO,
      FrameType.ATM_FINISHED,
      FrameType.BANK_REPLY,
      FrameType.HANDSHAKE_FAILURE,
      FrameType.RECORD_DATA,
      FrameType.RECORD_CLOSE,
    ),
    body: fc.uint8Array({ maxLength: 120 }),
  }),
  fc.record({ type: fc.constant(FrameType.ATM_HELLO), body: mutatedHello }),
  fc.record({ type: fc.integer({ min: 0, max: 255 }), body: fc.uint8Array({ maxLength: 40 }) }),
).map(({ type, body }) => encodeFrame(type, body));

Deno.test("property: acceptChannel() refuses arbitrary handshake frames and closes the connection", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(hostileFrame, { minLength: 1, maxLength: 3 }),
      fc.boolean(),
      async (frames, endStream) => {
        const { client, server } = await tcpPair();
        const accepting = acceptChannel(server, {
          lookupPsk: (id) => Promise.resolve(id === "atm-1" ? PSK : undefined),
          timeoutMs: 1_000,
        });
        for (const frame of frames) await client.write(frame).catch(() => 0);
        // Half the time the attacker stops sending, half the time it goes silent and waits.
        if (endStream) await client.closeWrite().catch(() => {});
        const outcome = await accepting.then(
          (channel) => ({ channel, error: undefined }),
          (error) => ({ channel: undefined, error }),
        );
        await outcome.channel?.close();
        equal(outcome.channel, undefined, "a channel was established from hostile frames");
        ok(outcome.error instanceof ProtocolError, `not a ProtocolError: ${outcome.error}`);
        // The bank closed its end: the client reads to EOF (maybe a reply and the failure frame).
        const received = await readToEnd(client);
        ok(received.length <= 5 + 96 + 5, `the bank sent ${received.length} bytes`);
      },
    ),
    { numRuns: TCP_RUNS },
  );
});
