/**
 * Byte layout of the three handshake messages (docs/protocol.md, "Messages"). Pure functions:
 * encoding checks its input, parsing checks every length and field before anything is trusted.
 *
 * @module
 */

import { type Bytes, utf8 } from "./bytes.ts";
import {
  ATM_FINISHED_BYTES,
  ATM_HELLO_BYTES_MAX,
  ATM_HELLO_BYTES_MIN,
  ATM_ID_BYTES_MAX,
  ATM_ID_PATTERN,
  BANK_REPLY_BYTES,
  MAC_BYTES,
  NONCE_BYTES,
  PROTOCOL_VERSION,
  X25519_KEY_BYTES,
} from "./constants.ts";
import { ProtocolError } from "./errors.ts";

/** ATM hello: who the ATM claims to be and its half of the key exchange. */
export interface AtmHello {
  /** The ATM id, checked against {@link ATM_ID_PATTERN}. */
  atmId: string;
  /** 32 random bytes. */
  nonce: Bytes;
  /** Ephemeral X25519 public key. */
  publicKey: Bytes;
}

/** Bank reply: the bank's half of the key exchange and its proof of the key. */
export interface BankReply {
  /** 32 random bytes. */
  nonce: Bytes;
  /** Ephemeral X25519 public key. */
  publicKey: Bytes;
  /** HMAC over the transcript hash so far. */
  mac: Bytes;
}

/**
 * Checks an ATM id: 1 to {@link ATM_ID_BYTES_MAX} characters of `A-Z a-z 0-9 . _ -`, starting with
 * a letter or digit.
 *
 * @param atmId The id.
 * @throws {RangeError} When it does not qualify.
 */
export function assertAtmId(atmId: string): void {
  if (typeof atmId !== "string" || atmId.length > ATM_ID_BYTES_MAX || !ATM_ID_PATTERN.test(atmId)) {
    const shown = typeof atmId === "string" ? JSON.stringify(atmId.slice(0, ATM_ID_BYTES_MAX)) : "";
    throw new RangeError(
      `ATM id must be 1-${ATM_ID_BYTES_MAX} characters of A-Z, a-z, 0-9, ".", "_", "-" ` +
        `starting with a letter or digit: got ${shown || typeof atmId}`,
    );
  }
}

function assertLength(bytes: Uint8Array, length: number, label: string): void {
  if (bytes.length !== length) {
    throw new RangeError(`${label} must be ${length} bytes: got ${bytes.length}`);
  }
}

/**
 * Encodes an ATM hello body: `version (1) || id length (1) || id || nonce (32) || public key (32)`.
 *
 * @param hello The fields.
 * @returns The body.
 * @throws {RangeError} On a bad id or a field of the wrong length.
 */
export function encodeAtmHello(hello: AtmHello): Bytes {
  assertAtmId(hello.atmId);
  assertLength(hello.nonce, NONCE_BYTES, "Nonce");
  assertLength(hello.publicKey, X25519_KEY_BYTES, "Public key");
  const id = utf8(hello.atmId);
  const body = new Uint8Array(2 + id.length + NONCE_BYTES + X25519_KEY_BYTES);
  body[0] = PROTOCOL_VERSION;
  body[1] = id.length;
  body.set(id, 2);
  body.set(hello.nonce, 2 + id.length);
  body.set(hello.publicKey, 2 + id.length + NONCE_BYTES);
  return body;
}

/**
 * Parses an ATM hello body.
 *
 * @param body The frame body.
 * @returns The fields (copies, not views of the body).
 * @throws {ProtocolError} `malformed` on a wrong length, version or id.
 */
export function parseAtmHello(body: Uint8Array): AtmHello {
  if (body.length < ATM_HELLO_BYTES_MIN || body.length > ATM_HELLO_BYTES_MAX) {
    throw new ProtocolError("malformed", `ATM hello has ${body.length} bytes`);
  }
  if (body[0] !== PROTOCOL_VERSION) {
    throw new ProtocolError("malformed", `ATM hello has unknown version ${body[0]}`);
  }
  const idLength = body[1];
  if (body.length !== 2 + idLength + NONCE_BYTES + X25519_KEY_BYTES) {
    throw new ProtocolError("malformed", `ATM hello id length ${idLength} does not match its size`);
  }
  // The pattern is ASCII-only, so decoding byte by byte cannot hide a multi-byte character.
  const atmId = String.fromCharCode(...body.subarray(2, 2 + idLength));
  if (!ATM_ID_PATTERN.test(atmId)) {
    throw new ProtocolError("malformed", "ATM hello has an ATM id with characters outside the set");
  }
  const nonceStart = 2 + idLength;
  return {
    atmId,
    nonce: body.slice(nonceStart, nonceStart + NONCE_BYTES),
    publicKey: body.slice(nonceStart + NONCE_BYTES),
  };
}

/**
 * Encodes a bank reply body: `nonce (32) || public key (32) || mac (32)`.
 *
 * @param reply The fields.
 * @returns The body.
 * @throws {RangeError} On a field of the wrong length.
 */
export function encodeBankReply(reply: BankReply): Bytes {
  assertLength(reply.nonce, NONCE_BYTES, "Nonce");
  assertLength(reply.publicKey, X25519_KEY_BYTES, "Public key");
  assertLength(reply.mac, MAC_BYTES, "MAC");
  const body = new Uint8Array(BANK_REPLY_BYTES);
  body.set(reply.nonce, 0);
  body.set(reply.publicKey, NONCE_BYTES);
  body.set(reply.mac, NONCE_BYTES + X25519_KEY_BYTES);
  return body;
}

/**
 * Parses a bank reply body.
 *
 * @param body The frame body.
 * @returns The fields (copies).
 * @throws {ProtocolError} `malformed` on a wrong length.
 */
export function parseBankReply(body: Uint8Array): BankReply {
  if (body.length !== BANK_REPLY_BYTES) {
    throw new ProtocolError("malformed", `Bank reply has ${body.length} bytes`);
  }
  return {
    nonce: body.slice(0, NONCE_BYTES),
    publicKey: body.slice(NONCE_BYTES, NONCE_BYTES + X25519_KEY_BYTES),
    mac: body.slice(NONCE_BYTES + X25519_KEY_BYTES),
  };
}

/**
 * Parses an ATM finished body: one MAC.
 *
 * @param body The frame body.
 * @returns The MAC (a copy).
 * @throws {ProtocolError} `malformed` on a wrong length.
 */
export function parseAtmFinished(body: Uint8Array): Bytes {
  if (body.length !== ATM_FINISHED_BYTES) {
    throw new ProtocolError("malformed", `ATM finished has ${body.length} bytes`);
  }
  return body.slice();
}
