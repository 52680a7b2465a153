/**
 * The mutual-TLS 1.3 baseline server, run as its own process like the bank: it requires and
 * verifies a client certificate from the benchmark CA, and answers each length-prefixed request
 * with a response of a fixed size (the size of the bank's balance answer). No storage.
 *
 * `Deno.listenTls` cannot ask for client certificates, so the server is `node:tls` as Deno
 * provides it (the same rustls underneath); the clients use `Deno.connectTls` with a client
 * certificate.
 *
 * Usage: `deno run --allow-net=127.0.0.1 --allow-read=CERT_DIR bench/baselines/tls_server.ts
 * CERT_DIR RESPONSE_BYTES`. Prints `listening port=N`, and on SIGTERM
 * `stats sessions=N resumed=N not_tls13=N` before it exits.
 *
 * @module
 */

import tls from "node:tls";

/** Length prefix of each message, as in the bank's frames (4-byte big-endian length). */
const LENGTH_BYTES = 4;

/** Largest request accepted; the benchmark's requests are tens of bytes. */
const REQUEST_BYTES_MAX = 16 * 1024;

/** Largest response size the command line may ask for. */
const RESPONSE_BYTES_MAX = 16 * 1024;

function parseArgs(args: string[]): { dir: string; responseBytes: number } {
  const [dir, size] = args;
  const responseBytes = Number(size);
  if (!dir || !Number.isSafeInteger(responseBytes) || responseBytes < 1) {
    throw new Error("Usage: tls_server.ts CERT_DIR RESPONSE_BYTES");
  }
  if (responseBytes > RESPONSE_BYTES_MAX) {
    throw new RangeError(`RESPONSE_BYTES must be at most ${RESPONSE_BYTES_MAX}`);
  }
  return { dir, responseBytes };
}

function main(): void {
  const { dir, responseBytes } = parseArgs(Deno.args);
  const read = (name: string) => Deno.readTextFileSync(`${dir}/${name}`);
  const response = new Uint8Array(LENGTH_BYTES + responseBytes).fill(0x61);
  new DataView(response.buffer).setUint32(0, responseBytes);
  const stats = { sessions: 0, resumed: 0, notTls13: 0 };

  const server = tls.createServer({
    key: read("server.key"),
    cert: read("server.crt"),
    ca: read("ca.crt"),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.3",
  }, (socket) => {
    socket.setNoDelay(true);
    stats.sessions++;
    if (socket.isSessionReused()) stats.resumed++;
    if (socket.getProtocol() !== "TLSv1.3") stats.notTls13++;
    let pending: Uint8Array = new Uint8Array(0);
    socket.on("data", (chunk: Uint8Array) => {
      pending = pending.length === 0 ? chunk : concat(pending, chunk);
      while (pending.length >= LENGTH_BYTES) {
        const view = new DataView(pending.buffer, pending.byteOffset, pending.length);
        const length = view.getUint32(0);
        if (length > REQUEST_BYTES_MAX) {
          socket.destroy();
          return;
        }
        if (pending.length < LENGTH_BYTES + length) break;
        pending = pending.subarray(LENGTH_BYTES + length);
        socket.write(response);
      }
    });
    socket.on("error", () => socket.destroy());
  });
  server.on("tlsClientError", () => {});
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    console.log(`listening port=${port}`);
  });
  Deno.addSignalListener("SIGTERM", () => {
    console.log(
      `stats sessions=${stats.sessions} resumed=${stats.resumed} not_tls13=${stats.notTls13}`,
    );
    Deno.exit(0);
  });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

if (import.meta.main) main();
