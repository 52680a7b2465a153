/**
 * Every size and limit of the ATM-bank secure channel, in one place. Wire sizes come first (changing
 * one changes the protocol, see docs/protocol.md), then implementation limits.
 *
 * @module
 */

// Wire sizes: part of protocol version 1.

/** Protocol version carried in the ATM hello; a bank refuses any other value. */
export const PROTOCOL_VERSION = 1;

/** Frame header: 1 type byte and a 4-byte big-endian body length. */
export const FRAME_HEADER_BYTES = 5;

/** Pre-shared key of one ATM: a full 256-bit key, as the issue requires. */
export const PSK_BYTES = 32;

/** Handshake nonce: 256 bits of randomness from each side, so no session repeats a salt. */
export const NONCE_BYTES = 32;

/** X25519 public key and shared secret size (RFC 7748 section 5). */
export const X25519_KEY_BYTES = 32;

/** HMAC-SHA256 output; MACs are never truncated. */
export const MAC_BYTES = 32;

/** SHA-256 output, the size of every transcript hash. */
export const HASH_BYTES = 32;

/** Master secret, the output of the first HKDF call: one SHA-256 block of keying material. */
export const MASTER_SECRET_BYTES = 32;

/** AES block size; also the CBC IV size. */
export const AES_BLOCK_BYTES = 16;

/** A fresh random IV per record (one AES block, as CBC needs). */
export const IV_BYTES = AES_BLOCK_BYTES;

/** Longest ATM id on the wire; the length travels in one byte and ids are short names. */
export const ATM_ID_BYTES_MAX = 64;

/** Characters allowed in an ATM id: safe in logs, file names and JSON without escaping. */
export const ATM_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** ATM hello body: version, id length, id, nonce, ephemeral public key. */
export const ATM_HELLO_BYTES_MIN = 1 + 1 + 1 + NONCE_BYTES + X25519_KEY_BYTES;

/** Longest ATM hello body (with the longest ATM id). */
export const ATM_HELLO_BYTES_MAX = ATM_HELLO_BYTES_MIN - 1 + ATM_ID_BYTES_MAX;

/** Bank reply body: nonce, ephemeral public key, MAC over the transcript so far. */
export const BANK_REPLY_BYTES = NONCE_BYTES + X25519_KEY_BYTES + MAC_BYTES;

/** ATM finished body: one MAC over the whole transcript. */
export const ATM_FINISHED_BYTES = MAC_BYTES;

/** Smallest record body: IV, one padded block (an empty payload still pads to 16), MAC. */
export const RECORD_BYTES_MIN = IV_BYTES + AES_BLOCK_BYTES + MAC_BYTES;

// Implementation limits.

/**
 * Largest frame body either side sends or accepts. Requests and responses are small JSON objects,
 * so 64 KiB is generous while keeping one frame's buffer far below the 32 KiB-per-idle-session
 * budget's reach: the buffer exists only while a frame is being read.
 */
export const FRAME_BYTES_MAX = 64 * 1024;

/**
 * Largest frame body accepted before the peer is authenticated: the longest handshake message,
 * rounded up. An unauthenticated peer can never make us allocate more than this.
 */
export const HANDSHAKE_FRAME_BYTES_MAX = 256;

/** Time the whole handshake may take; a peer that stalls longer is dropped. */
export const HANDSHAKE_TIMEOUT_MS = 5_000;

/** Time one record (or the close record) may take to be written before the session is dropped. */
export const WRITE_TIMEOUT_MS = 10_000;

/** Time `close()` waits for the close record to go out before it closes the socket anyway. */
export const CLOSE_TIMEOUT_MS = 1_000;

/** Longest timeout `setTimeout` honours (2^31 - 1 ms); larger values would fire at once. */
export const TIMEOUT_MS_MAX = 2_147_483_647;

/**
 * Records per direction and session. The sequence number is 64 bits on the MAC input, but with
 * random-IV CBC we stay far below the AES birthday bound (2^64 blocks): 2^32 records of at most
 * 4096 blocks each is 2^44 blocks. An ATM reconnects long before reaching it.
 */
export const RECORDS_PER_DIRECTION_MAX = 2 ** 32;

/** Largest payload of one record that fits in a frame of `frameBytesMax` bytes. */
export function recordPayloadBytesMax(frameBytesMax: number): number {
  const cipherBytesMax = frameBytesMax - IV_BYTES - MAC_BYTES;
  // PKCS#7 always adds 1-16 bytes, so the payload is at most one byte short of whole blocks.
  return Math.floor(cipherBytesMax / AES_BLOCK_BYTES) * AES_BLOCK_BYTES - 1;
}

/** Largest application payload of one record at the protocol's frame limit. */
export const RECORD_PAYLOAD_BYTES_MAX = recordPayloadBytesMax(FRAME_BYTES_MAX);

// Load-time checks that tie the limits together.
if (HANDSHAKE_FRAME_BYTES_MAX < ATM_HELLO_BYTES_MAX) {
  throw new Error("HANDSHAKE_FRAME_BYTES_MAX must hold the longest ATM hello");
}
if (HANDSHAKE_FRAME_BYTES_MAX < BANK_REPLY_BYTES) {
  throw new Error("HANDSHAKE_FRAME_BYTES_MAX must hold the bank reply");
}
if (FRAME_BYTES_MAX < RECORD_BYTES_MIN || FRAME_BYTES_MAX > 2 ** 32 - 1) {
  throw new Error("FRAME_BYTES_MAX must hold one record and fit the 32-bit length field");
}
if (!Number.isSafeInteger(RECORDS_PER_DIRECTION_MAX)) {
  throw new Error("RECORDS_PER_DIRECTION_MAX must be a safe integer");
}
