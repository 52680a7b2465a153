/**
 * Record protection, encrypt-then-MAC (docs/protocol.md, "Records").
 *
 * body = IV (16) || AES-256-CBC(payload, PKCS#7) || HMAC-SHA256(direction || seq (8) || type ||
 * IV || ciphertext). The sequence number is implicit: each side counts, so a replayed, reordered
 * or dropped record fails the MAC. The MAC is verified before any decryption: CBC without it
 * would be a padding oracle.
 *
 * Both run synchronously on keys held natively: the MAC on precomputed SHA-256 states
 * (hmac_state.ts), AES-CBC in a cipher context kept for the session (aes_cbc.ts). A record costs
 * a few microseconds instead of the four WebCrypto calls, about 50 µs each, it used to
 * (docs/performance.md).
 *
 * @module
 */

import { AesCbcError } from "./aes_cbc.ts";
import type { Bytes } from "./bytes.ts";
import {
  AES_BLOCK_BYTES,
  IV_BYTES,
  MAC_BYTES,
  RECORD_BYTES_MIN,
  RECORDS_PER_DIRECTION_MAX,
} from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import type { HmacSha256State } from "./hmac_state.ts";
import type { ReceivingKeys, SendingKeys } from "./key_schedule.ts";

/** Direction byte on the MAC input, so a record can never be reflected back to its sender. */
export const Direction = {
  ATM_TO_BANK: 0x01,
  BANK_TO_ATM: 0x02,
} as const;

/** One direction value. */
export type DirectionValue = typeof Direction[keyof typeof Direction];

/** Options of a {@link RecordSealer} or {@link RecordOpener}. */
export interface RecordOptions<Keys> {
  /** Which way the records go. */
  direction: DirectionValue;
  /** The keys of that direction, as this side uses them. */
  keys: Keys;
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

/**
 * Length of the record body that carries a payload: IV, the payload padded to whole blocks
 * (PKCS#7 always adds 1 to 16 bytes), and the MAC.
 *
 * @param payloadBytes The plaintext length.
 * @returns The body length.
 */
export function recordBytes(payloadBytes: number): number {
  const cipherBytes = (Math.floor(payloadBytes / AES_BLOCK_BYTES) + 1) * AES_BLOCK_BYTES;
  return IV_BYTES + cipherBytes + MAC_BYTES;
}

/** Bytes of the MAC header: direction (1), sequence number (8), type (1). */
const MAC_HEADER_BYTES = 10;

/**
 * What a sealer and an opener both keep: the direction, the MAC states, the record limit and the
 * next sequence number.
 */
class DirectionState {
  readonly direction: DirectionValue;
  readonly #mac: HmacSha256State;
  readonly recordsMax: number;
  /** The sequence number of the next record. */
  sequence = 0;
  /** The MAC header, rewritten for each record. */
  readonly #header = new Uint8Array(MAC_HEADER_BYTES);
  readonly #headerView = new DataView(this.#header.buffer);

  constructor(direction: DirectionValue, mac: HmacSha256State, recordsMax: number | undefined) {
    this.direction = direction;
    this.#mac = mac;
    this.recordsMax = recordsMaxOf(recordsMax);
  }

  /** True when the next record would pass the limit. */
  get exhausted(): boolean {
    return this.sequence >= this.recordsMax;
  }

  /** The MAC input before IV and ciphertext, for record `sequence` of `type`. */
  #macHeader(sequence: number, type: number): Uint8Array {
    this.#header[0] = this.direction;
    // Big-endian u64 in two halves: sequence numbers are safe integers, so no BigInt is needed.
    this.#headerView.setUint32(1, Math.floor(sequence / 2 ** 32));
    this.#headerView.setUint32(5, sequence >>> 0);
    this.#header[9] = type;
    return this.#header;
  }

  /** The MAC of record `sequence` of `type`, over its IV and ciphertext. */
  sign(sequence: number, type: number, ivAndCipher: Uint8Array): Bytes {
    return this.#mac.sign(this.#macHeader(sequence, type), ivAndCipher);
  }

  /** Whether `mac` is the MAC of record `sequence` of `type`, over its IV and ciphertext. */
  verify(mac: Uint8Array, sequence: number, type: number, ivAndCipher: Uint8Array): boolean {
    return this.#mac.verify(mac, this.#macHeader(sequence, type), ivAndCipher);
  }
}

/** Seals outgoing records of one direction and counts them. Not safe for concurrent use. */
export class RecordSealer {
  readonly #state: DirectionState;
  readonly #keys: SendingKeys;

  /**
   * Creates a sealer starting at sequence number 0.
   *
   * @param options Direction, the sending keys and the record limit.
   */
  constructor(options: RecordOptions<SendingKeys>) {
    this.#state = new DirectionState(options.direction, options.keys.mac, options.recordsMax);
    this.#keys = options.keys;
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
  seal(type: number, payload: Uint8Array): Bytes {
    const body = new Uint8Array(recordBytes(payload.length));
    this.sealInto(type, payload, body);
    return body;
  }

  /**
   * Encrypts and MACs one record into `body`, e.g. the body of a frame allocated for it, so the
   * record is built where it is sent from.
   *
   * @param type The record (frame) type, covered by the MAC.
   * @param payload The plaintext.
   * @param body Exactly {@link recordBytes}(payload.length) bytes; overwritten.
   * @throws {RangeError} When `body` has another length (nothing is sealed or counted).
   * @throws {ProtocolError} `sequence_exhausted` when the limit is reached.
   */
  sealInto(type: number, payload: Uint8Array, body: Uint8Array): void {
    const bodyBytes = recordBytes(payload.length);
    if (body.length !== bodyBytes) {
      throw new RangeError(`Record body must be ${bodyBytes} bytes: got ${body.length}`);
    }
    const state = this.#state;
    if (state.exhausted) {
      throw new ProtocolError("sequence_exhausted", `Sent ${state.recordsMax} records: limit`);
    }
    const sequence = state.sequence++;
    const iv = crypto.getRandomValues(body.subarray(0, IV_BYTES));
    const macAt = bodyBytes - MAC_BYTES;
    body.set(this.#keys.encrypter.encrypt(iv, payload), IV_BYTES);
    body.set(state.sign(sequence, type, body.subarray(0, macAt)), macAt);
  }
}

/** Verifies and decrypts incoming records of one direction, in order. Not safe for concurrent use. */
export class RecordOpener {
  readonly #state: DirectionState;
  readonly #keys: ReceivingKeys;

  /**
   * Creates an opener expecting sequence number 0.
   *
   * @param options Direction, the receiving keys and the record limit.
   */
  constructor(options: RecordOptions<ReceivingKeys>) {
    this.#state = new DirectionState(options.direction, options.keys.mac, options.recordsMax);
    this.#keys = options.keys;
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
  open(type: number, body: Uint8Array): Bytes {
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
    if (!state.verify(mac, state.sequence, type, ivAndCipher)) {
      throw new ProtocolError("bad_mac", `Record ${state.sequence} MAC does not verify`);
    }
    state.sequence++;
    try {
      return this.#keys.decrypter.decrypt(
        body.subarray(0, IV_BYTES),
        body.subarray(IV_BYTES, IV_BYTES + cipherBytes),
      );
    } catch (error) {
      // Only reachable with a valid MAC, i.e. a sender bug: padding errors are not an oracle here.
      if (!(error instanceof AesCbcError)) throw error;
      throw new ProtocolError("malformed", "Authenticated record does not decrypt", {
        cause: error,
      });
    }
  }
}
