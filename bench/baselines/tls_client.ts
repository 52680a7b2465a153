/**
 * The client side of the mutual-TLS 1.3 baseline: `Deno.connectTls` with the client certificate,
 * and length-prefixed request/response round trips of the same sizes the bank's ATMs use.
 *
 * @module
 */

import type { TlsMaterial } from "./tls_certs.ts";

/** Length prefix of each message (4-byte big-endian length). */
const LENGTH_BYTES = 4;

/**
 * Opens a mutual-TLS connection and completes the handshake.
 *
 * @param port The baseline server's port on 127.0.0.1.
 * @param material The CA, client certificate and key.
 * @returns The connection, handshake done.
 */
export async function connectMutualTls(port: number, material: TlsMaterial): Promise<Deno.TlsConn> {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port,
    caCerts: [material.caCert],
    cert: material.clientCert,
    key: material.clientKey,
  });
  await conn.handshake();
  return conn;
}

/**
 * Builds a request message: length prefix and a body of `bytes` bytes.
 *
 * @param bytes Body size.
 * @returns The message, reusable for every request.
 */
export function tlsRequest(bytes: number): Uint8Array<ArrayBuffer> {
  const message = new Uint8Array(LENGTH_BYTES + bytes).fill(0x62);
  new DataView(message.buffer).setUint32(0, bytes);
  return message;
}

/**
 * Sends one request and reads the whole fixed-size response.
 *
 * @param conn An open connection.
 * @param request A message from {@link tlsRequest}.
 * @param response A buffer of exactly the response's size (prefix included), reused per call.
 * @throws {Error} When the server closes early.
 */
export async function tlsRoundTrip(
  conn: Deno.Conn,
  request: Uint8Array<ArrayBuffer>,
  response: Uint8Array<ArrayBuffer>,
): Promise<void> {
  let written = 0;
  while (written < request.length) written += await conn.write(request.subarray(written));
  let read = 0;
  while (read < response.length) {
    const n = await conn.read(response.subarray(read));
    if (n === null) throw new Error("TLS baseline server closed the connection");
    read += n;
  }
}

/**
 * The response buffer for a body of `bytes` bytes.
 *
 * @param bytes Body size.
 * @returns A buffer for {@link tlsRoundTrip}.
 */
export function tlsResponseBuffer(bytes: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(LENGTH_BYTES + bytes);
}
