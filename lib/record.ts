/**
 * Record protection, encrypt-then-MAC (docs/protocol.md, "Records").
 *
 * body = IV (16) || AES-256-CBC(payload, PKCS#7) || HMAC-SHA256(direction || seq (8) || type ||
 * IV || ciphertext). The sequence number is implicit: each side counts, so a replayed, reordered
 * or dropped record fails the MAC. The MAC is verified before any decryption: CBC without it
 * would be a padding oracle.
 *
 * The MAC is computed from the direction's `macState` (synchronous SHA-256 states, see
 * hmac_state.ts) when the keys carry it, as `deriveSessionKeys` always does, and through
 * WebCrypto otherwise; both give the same tag. AES-CBC always goes through WebCrypto.
 *
 * @module
 */

import { type Bytes, concatBytes, u64ToBytes } from "./bytes.ts";
import {
  AES_BLOCK_BYTES,
  IV_BYTES,
  MAC_BYTES,
  RECORD_BYTES_MIN,
  RECORDS_PER_DIRECTION_MAX,
} from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import type { DirectionKeys } from "./key_schedule.ts";
import { hmacSha256, verifyHmacSha256 } from "./hmac.ts";
import { HmacSha256State } from "./hmac_state.ts";

/** Direction byte on the MAC input, so a record can never be reflected back to its sender. */
export const Direction = {
  ATM_TO_BANK: 0x01,
  BANK_TO_ATM: 0x02,
} as const;

/** One direction value. */
export type DirectionValue = typeof Direction[keyof typeof Direction];

/** Options of a {@link RecordSealer} or {@link RecordOpener}. */
export interface RecordKeyOptions {
  /** Which way the records go. */
  direction: DirectionValue;
  /** The keys of that direction. */
  keys: DirectionKeys;
  /** Records allowed in this direction; default and upper bound {@link RECORDS_PER_DIRECTION_MAX}. */
  recordsMax?: number;
}

/**
 * Checks a record limit.
 *
 * @param recordsMax The limit, or undefined for the default.
 * @returns The limit to use.
 * @throws {RangeError} When it is not an integer from 1 to {@link RECORDS_PER_DIRECTION_MAX}.
 */
export function recordsMaxOf(recordsMax = RECORDS_PER_DIRECTION_MAX): number {
  if (
    !Number.isSafeInteger(recordsMax) || recordsMax < 1 || recordsMax > RECORDS_PER_DIRECTION_MAX
  ) {
    throw new RangeError(
      `recordsMax must be an integer from 1 to ${RECORDS_PER_DIRECTION_MAX}: got ${recordsMax}`,
    );
  }
  return recordsMax;
}

/** The MAC input before IV and ciphertext: direction (1), sequence number (8), type (1). */
function macHeader(direction: number, sequence: number, type: number): Bytes {
  return concatBytes(new Uint8Array([direction]), u64ToBytes(sequence), new Uint8Array([type]));
}

/**
 * What a sealer and an opener both keep: the direction, only the keys they use (so a session does
 * not hold on to a MAC `CryptoKey` it never calls: idle sessions are counted in kilobytes), the
 * record limit and the next sequence number.
 */
class DirectionState {
  readonly direction: DirectionValue;
  readonly encryption: CryptoKey;
  readonly #mac: HmacSha256State | CryptoKey;
  readonly recordsMax: number;
  /** The sequence number of the next record. */
  sequence = 0;

  constructor(options: RecordKeyOptions) {
    this.direction = options.direction;
    this.encryption = options.keys.encryption;
    this.#mac = options.keys.macState ?? options.keys.mac;
    this.recordsMax = recordsMaxOf(options.recordsMax);
  }

  /** True when the next record would pass the limit. */
  get exhausted(): boolean {
    return this.sequence >= this.recordsMax;
  }

  /** The MAC of record `sequence` of `type`, over its IV and ciphertext. */
  async sign(sequence: number, type: number, ivAndCipher: Bytes): Promise<Bytes> {
    const header = macHeader(this.direction, sequence, type);
    return this.#mac instanceof HmacSha256State
      ? this.#mac.sign(header, ivAndCipher)
      : await hmacSha256(this.#mac, concatBytes(header, ivAndCipher));
  }

  /** Whether `mac` is the MAC of record `sequence` of `type`, over its IV and ciphertext. */
  async verify(mac: Bytes, sequence: number, type: number, ivAndCipher: Bytes): Promise<boolean> {
    const header = macHeader(this.direction, sequence, type);
    return this.#mac instanceof HmacSha256State
      ? this.#mac.verify(mac, header, ivAndCipher)
      : await verifyHmacSha256(this.#mac, mac, concatBytes(header, ivAndCipher));
  }
}

/** Seals outgoing records of one direction and counts them. Not safe for concurrent use. */
export class RecordSealer {
  readonly #state: DirectionState;

  /**
   * Creates a sealer starting at sequence number 0.
   *
   * @param options Direction, keys and record limit.
   */
  constructor(options: RecordKeyOptions) {
    this.#state = new DirectionState(options);
  }

  /** True when the next record would pass the limit. */
  get exhausted(): boolean {
    return this.#state.exhausted;
  }

  /**
   * Encrypts and MACs one record.
   *
   * @param type The record (frame) type, covered by the MAC.
   * @param payload The plaintext.
   * @returns The record body.
   * @throws {ProtocolError} `sequence_exhausted` when the limit is reached.
   */
  async seal(type: number, payload: Uint8Array<ArrayBuffer>): Promise<Bytes> {
    const state = this.#state;
    if (state.exhausted) {
      throw new ProtocolError("sequence_exhausted", `Sent ${state.recordsMax} records: limit`);
    }
    // Taken before the first await, so the number is never used twice.
    const sequence = state.sequence++;
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const cipher = new Uint8Array(
      await crypto.subtle.encrypt({ name: "AES-CBC", iv }, state.encryption, payload),
    );
    const ivAndCipher = concatBytes(iv, cipher);
    return concatBytes(ivAndCipher, await state.sign(sequence, type, ivAndCipher));
  }
}

/** Verifies and decrypts incoming records of one direction, in order. Not safe for concurrent use. */
export class RecordOpener {
  readonly #state: DirectionState;

  /**
   * Creates an opener expecting sequence number 0.
   *
   * @param options Direction, keys and record limit.
   */
  constructor(options: RecordKeyOptions) {
    this.#state = new DirectionState(options);
  }

  /**
   * Verifies the MAC, then decrypts one record.
   *
   * @param type The frame type the record came in.
   * @param body The record body.
   * @returns The plaintext.
   * @throws {ProtocolError} `sequence_exhausted` past the limit, `malformed` on an impossible
   * length or padding, `bad_mac` when the MAC does not verify (tampering, replay, reorder, drop).
   */
  async open(type: number, body: Uint8Array<ArrayBuffer>): Promise<Bytes> {
    const state = this.#state;
    if (state.exhausted) {
      throw new ProtocolError("sequence_exhausted", `Received ${state.recordsMax} records: limit`);
    }
    const cipherBytes = body.length - IV_BYTES - MAC_BYTES;
    if (body.length < RECORD_BYTES_MIN || cipherBytes % AES_BLOCK_BYTES !== 0) {
      throw new ProtocolError("malformed", `Record body of ${body.length} bytes is impossible`);
    }
    const ivAndCipher = body.subarray(0, IV_BYTES + cipherBytes);
    const mac = body.subarray(IV_BYTES + cipherBytes);
    if (!await state.verify(mac, state.sequence, type, ivAndCipher)) {
      throw new ProtocolError("bad_mac", `Record ${state.sequence} MAC does not verify`);
    }
    state.sequence++;
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-CBC", iv: body.subarray(0, IV_BYTES) },
        state.encryption,
        body.subarray(IV_BYTES, IV_BYTES + cipherBytes),
      );
      return new Uint8Array(plain);
    } catch (error) {
      // Only reachable with a valid MAC, i.e. a sender bug: padding errors are not an oracle here.
      throw new ProtocolError("malformed", "Authenticated record does not decrypt", {
        cause: error,
      });
    }
  }
}
