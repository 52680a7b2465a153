/**
 * Property-based fuzzing of the record layer with fast-check: whatever bytes arrive as a record,
 * the opener refuses them with `malformed` or `bad_mac`, hands out no plaintext, and a refused
 * record does not move its sequence number, so it cannot desynchronise a later genuine record.
 */

import fc from "fast-check";
import { deepStrictEqual, ok } from "node:assert/strict";
import type { Bytes } from "./bytes.ts";
import { ProtocolError } from "./errors.ts";
import { FrameType } from "./frame.ts";
import { importHmacSha256Key } from "./hmac.ts";
import type { DirectionKeys } from "./key_schedule.ts";
import { Direction, RecordOpener, RecordSealer } from "./record.ts";

/** Runs of each property. */
const RUNS = 300;

async function freshKeys(): Promise<DirectionKeys> {
  const encryption = await crypto.subtle.importKey(
    "raw",
    crypto.getRandomValues(new Uint8Array(32)),
    { name: "AES-CBC", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  return { encryption, mac: await importHmacSha256Key(crypto.getRandomValues(new Uint8Array(32))) };
}

const KEYS = await freshKeys();

/** Bodies an attacker can send: noise of every length, and well-sized noise (IV, blocks, MAC). */
const hostileBodies = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.integer({ min: 1, max: 8 }).chain((blocks) =>
    fc.uint8Array({ minLength: 16 + blocks * 16 + 32, maxLength: 16 + blocks * 16 + 32 })
  ),
);

Deno.test("property: RecordOpener.open() refuses arbitrary bodies and keeps its sequence", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({ type: fc.integer({ min: 0, max: 255 }), body: hostileBodies }),
        { minLength: 1, maxLength: 4 },
      ),
      fc.uint8Array({ maxLength: 100 }),
      async (hostile, payload) => {
        const direction = Direction.ATM_TO_BANK;
        const sealer = new RecordSealer({ direction, keys: KEYS });
        const opener = new RecordOpener({ direction, keys: KEYS });
        for (const { type, body } of hostile) {
          const error = await opener.open(type, body as Bytes).then(() => null, (e) => e);
          ok(
            error instanceof ProtocolError &&
              (error.code === "malformed" || error.code === "bad_mac"),
            `expected malformed or bad_mac, got ${error}`,
          );
        }
        const genuine = await sealer.seal(FrameType.RECORD_DATA, new Uint8Array(payload));
        deepStrictEqual(await opener.open(FrameType.RECORD_DATA, genuine), new Uint8Array(payload));
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("property: a genuine record under another key, type or direction is refused", async () => {
  const otherKeys = await freshKeys();
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 100 }),
      fc.constantFrom("key", "type", "direction"),
      async (payload, change) => {
        const sealer = new RecordSealer({
          direction: change === "direction" ? Direction.BANK_TO_ATM : Direction.ATM_TO_BANK,
          keys: change === "key" ? otherKeys : KEYS,
        });
        const opener = new RecordOpener({ direction: Direction.ATM_TO_BANK, keys: KEYS });
        const body = await sealer.seal(FrameType.RECORD_DATA, new Uint8Array(payload));
        const type = change === "type" ? FrameType.RECORD_CLOSE : FrameType.RECORD_DATA;
        const error = await opener.open(type, body).then(() => null, (e) => e);
        ok(error instanceof ProtocolError && error.code === "bad_mac", `got ${error}`);
      },
    ),
    { numRuns: RUNS },
  );
});
