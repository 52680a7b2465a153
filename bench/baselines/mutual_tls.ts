/**
 * The mutual-TLS 1.3 baseline: the same load shapes as the bank's handshake and round-trip
 * figures, against a TLS server process that verifies client certificates and stores nothing.
 *
 * @module
 */

import { type Child, startChild } from "../child.ts";
import { type ClosedLoopResult, runClosedLoop } from "../closed_loop.ts";
import type { Window } from "../workloads/channel.ts";
import type { TlsMaterial } from "./tls_certs.ts";
import { connectMutualTls, tlsRequest, tlsResponseBuffer, tlsRoundTrip } from "./tls_client.ts";

/** Message sizes, taken from the bank's own balance request and answer. */
export interface MessageSizes {
  requestBytes: number;
  responseBytes: number;
}

/** A running baseline server. */
export interface TlsServer {
  port: number;
  child: Child;
}

/**
 * Starts the baseline server process.
 *
 * @param material Certificates (the server reads them from `material.dir`).
 * @param sizes The response size it answers with.
 * @returns The running server.
 */
export async function startTlsServer(
  material: TlsMaterial,
  sizes: MessageSizes,
): Promise<TlsServer> {
  const child = await startChild({
    args: [
      "run",
      "--quiet",
      // Only what the server needs: loopback, and reading its certificates.
      "--allow-net=127.0.0.1",
      `--allow-read=${material.dir}`,
      "bench/baselines/tls_server.ts",
      material.dir,
      String(sizes.responseBytes),
    ],
    readyPattern: /listening port=(\d+)/,
  });
  return { port: Number(child.ready[1]), child };
}

/**
 * Reads the server's session statistics after it stopped.
 *
 * @param tail The end of its output.
 * @returns Sessions, resumed sessions (should be 0: every handshake full) and non-1.3 sessions.
 */
export function parseTlsStats(
  tail: string,
): { sessions: number; resumed: number; notTls13: number } | undefined {
  const match = tail.match(/stats sessions=(\d+) resumed=(\d+) not_tls13=(\d+)/);
  if (!match) return undefined;
  return { sessions: Number(match[1]), resumed: Number(match[2]), notTls13: Number(match[3]) };
}

/**
 * Full mutual-TLS handshakes per second: connect, handshake with client certificate, one round
 * trip (so the server's verdict on the client certificate is in), close.
 *
 * @param port The baseline server's port.
 * @param material Certificates.
 * @param sizes Message sizes.
 * @param workers Connections opened at once.
 * @param window Warm-up and measured time.
 * @returns Handshakes per second and latency.
 */
export function measureTlsHandshakes(
  port: number,
  material: TlsMaterial,
  sizes: MessageSizes,
  workers: number,
  window: Window,
): Promise<ClosedLoopResult> {
  const request = tlsRequest(sizes.requestBytes);
  return runClosedLoop({
    workers,
    ...window,
    operation: async () => {
      const conn = await connectMutualTls(port, material);
      try {
        await tlsRoundTrip(conn, request, tlsResponseBuffer(sizes.responseBytes));
      } finally {
        conn.close();
      }
    },
  });
}

/**
 * Round trips per second over open mutual-TLS connections, one in flight per connection.
 *
 * @param port The baseline server's port.
 * @param material Certificates.
 * @param sizes Message sizes.
 * @param connections Concurrent connections.
 * @param window Warm-up and measured time.
 * @returns Round trips per second and latency.
 */
export async function measureTlsRoundTrips(
  port: number,
  material: TlsMaterial,
  sizes: MessageSizes,
  connections: number,
  window: Window,
): Promise<ClosedLoopResult> {
  const conns = await Promise.all(
    Array.from({ length: connections }, () => connectMutualTls(port, material)),
  );
  const request = tlsRequest(sizes.requestBytes);
  const buffers = conns.map(() => tlsResponseBuffer(sizes.responseBytes));
  try {
    return await runClosedLoop({
      workers: connections,
      ...window,
      operation: (index) => tlsRoundTrip(conns[index], request, buffers[index]),
    });
  } finally {
    for (const conn of conns) conn.close();
  }
}
