/**
 * Test helpers: real loopback TCP pairs, and channels established over them.
 *
 * @module
 */

import { acceptChannel, connectChannel } from "./channel.ts";
import type { SecureChannel } from "./secure_channel.ts";

/** Both ends of one loopback TCP connection. */
export interface TcpPair {
  /** The connecting end (the ATM's side in these tests). */
  client: Deno.TcpConn;
  /** The accepted end (the bank's side). */
  server: Deno.TcpConn;
}

/**
 * Opens one TCP connection over 127.0.0.1 on a fresh port; the listener is closed at once.
 *
 * @returns Both ends; the test closes them (channels do on close()).
 */
export async function tcpPair(): Promise<TcpPair> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const [client, server] = await Promise.all([
      Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
      listener.accept(),
    ]);
    return { client, server };
  } finally {
    listener.close();
  }
}

/** A fresh random 32-byte PSK. */
export function randomPsk(): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(32));
}

/** The two ends of an established session. */
export interface ChannelPair {
  atm: SecureChannel;
  bank: SecureChannel;
}

/**
 * Runs a real handshake over loopback TCP with one registered ATM.
 *
 * @param options Optional record limit and frame limit for the bank.
 * @returns Both channels.
 */
export async function channelPair(
  options: { recordsMax?: number; frameBytesMax?: number } = {},
): Promise<ChannelPair> {
  const psk = randomPsk();
  const { client, server } = await tcpPair();
  const [atm, bank] = await Promise.all([
    connectChannel(client, { atmId: "atm-1", psk, recordsMax: options.recordsMax }),
    acceptChannel(server, {
      lookupPsk: (id) => Promise.resolve(id === "atm-1" ? psk : undefined),
      recordsMax: options.recordsMax,
      frameBytesMax: options.frameBytesMax,
    }),
  ]);
  return { atm, bank };
}

/**
 * Reads everything a connection sends until EOF (or the peer resets), closing it afterwards.
 *
 * @param conn The connection.
 * @returns All bytes received.
 */
export async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(4096);
  try {
    while (true) {
      const count = await conn.read(buffer);
      if (count === null) break;
      chunks.push(buffer.slice(0, count));
    }
  } catch {
    // A reset ends the stream just as EOF does.
  }
  try {
    conn.close();
  } catch {
    // Already closed.
  }
  const all = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}
