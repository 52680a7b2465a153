/**
 * The secure channel shared by the bank and the ATM: framing, the PSK + X25519 handshake,
 * encrypt-then-MAC records, credential and secret files, and the primitives they use.
 * The protocol is specified in docs/protocol.md.
 *
 * @module
 */

export * from "./constants.ts";
export * from "./errors.ts";
export * from "./channel.ts";
export * from "./credential.ts";
export * from "./secret_file.ts";
export * from "./bytes.ts";
export * from "./hkdf.ts";
export * from "./hmac.ts";
export * from "./sha256.ts";
export * from "./x25519.ts";
