/**
 * Property-based fuzzing of the record layer with fast-check: whatever bytes arrive as a record,
 * the opener refuses them with `malformed` or `bad_mac`, hands out no plaintext, and a refused
 * record does not move its sequence number, so it cannot desynchronise a later genuine record.
 */

import fc from "fast-check";
import { deepStrictEqual, ok } from "node:assert/strict";
import { ProtocolError } from "./errors.ts";
import { FrameType } from "./frame.ts";
import { AesCbcDecrypter, AesCbcEncrypter } from "./aes_cbc.ts";
import { HmacSha256State } from "./hmac_state.ts";
import { Direction, type DirectionValue, RecordOpener, RecordSealer } from "./record.ts";

/** Runs of each property. */
const RUNS = 300;

/** A sealer and an opener of one direction under one pair of random keys. */
class Keys {
  readonly #encryption = crypto.getRandomValues(new Uint8Array(32));
  readonly #mac = crypto.getRandomValues(new Uint8Array(32));

  sealer(direction: DirectionValue): RecordSealer {
    const keys = {
      encrypter: new AesCbcEncrypter(this.#encryption),
      mac: new HmacSha256State(this.#mac),
    };
    return new RecordSealer({ direction, keys });
  }

  opener(direction: DirectionValue): RecordOpener {
    const keys = {
      decrypter: new AesCbcDecrypter(this.#encryption),
      mac: new HmacSha256State(this.#mac),
    };
    return new RecordOpener({ direction, keys });
  }
}

/** Whatever `open` throws, or null when it returns. */
function openError(opener: RecordOpener, type: number, body: Uint8Array): unknown {
  try {
    opener.open(type, body);
    return null;
  } catch (error) {
    return error;
  }
}

const KEYS = new Keys();

/** Bodies an attacker can send: noise of every length, and well-sized noise (IV, blocks, MAC). */
const hostileBodies = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.integer({ min: 1, max: 8 }).chain((blocks) =>
    fc.uint8Array({ minLength: 16 + blocks * 16 + 32, maxLength: 16 + blocks * 16 + 32 })
  ),
);

Deno.test("property: RecordOpener.open() refuses arbitrary bodies and keeps its sequence", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({ type: fc.integer({ min: 0, max: 255 }), body: hostileBodies }),
        { minLength: 1, maxLength: 4 },
      ),
      fc.uint8Array({ maxLength: 100 }),
      (hostile, payload) => {
        const direction = Direction.ATM_TO_BANK;
        const sealer = KEYS.sealer(direction);
        const opener = KEYS.opener(direction);
        for (const { type, body } of hostile) {
          const error = openError(opener, type, body);
          ok(
            error instanceof ProtocolError &&
              (error.code === "malformed" || error.code === "bad_mac"),
            `expected malformed or bad_mac, got ${error}`,
          );
        }
        const genuine = sealer.seal(FrameType.RECORD_DATA, new Uint8Array(payload));
        deepStrictEqual(opener.open(FrameType.RECORD_DATA, genuine), new Uint8Array(payload));
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("property: a genuine record under another key, type or direction is refused", () => {
  const otherKeys = new Keys();
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 100 }),
      fc.constantFrom("key", "type", "direction"),
      (payload, change) => {
        const sealer = (change === "key" ? otherKeys : KEYS).sealer(
          change === "direction" ? Direction.BANK_TO_ATM : Direction.ATM_TO_BANK,
        );
        const opener = KEYS.opener(Direction.ATM_TO_BANK);
        const body = sealer.seal(FrameType.RECORD_DATA, new Uint8Array(payload));
        const type = change === "type" ? FrameType.RECORD_CLOSE : FrameType.RECORD_DATA;
        const error = openError(opener, type, body);
        ok(error instanceof ProtocolError && error.code === "bad_mac", `got ${error}`);
      },
    ),
    { numRuns: RUNS },
  );
});
