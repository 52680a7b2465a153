/**
 * The secure channel between an ATM and the bank: `connectChannel` on the ATM, `acceptChannel` on
 * the bank, and the {@link SecureChannel} both return. The protocol is specified in
 * docs/protocol.md.
 *
 * @module
 */

export type { SecureChannel } from "./secure_channel.ts";
export { connectChannel, type ConnectChannelOptions } from "./handshake_atm.ts";
export { acceptChannel, type AcceptChannelOptions } from "./handshake_bank.ts";
