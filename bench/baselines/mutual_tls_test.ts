import { assert, assertEquals } from "../../lib/_test_assert.ts";
import { parseTlsStats, startTlsServer } from "./mutual_tls.ts";
import { measureTlsRoundTrips } from "./mutual_tls.ts";
import { makeTlsMaterial } from "./tls_certs.ts";
import { connectMutualTls, tlsRequest, tlsResponseBuffer, tlsRoundTrip } from "./tls_client.ts";

const SIZES = { requestBytes: 40, responseBytes: 70 };

Deno.test("the mutual-TLS baseline answers a client with a certificate and refuses one without", async () => {
  const dir = await Deno.makeTempDir();
  const material = await makeTlsMaterial(dir);
  const server = await startTlsServer(material, SIZES);
  try {
    const conn = await connectMutualTls(server.port, material);
    const response = tlsResponseBuffer(SIZES.responseBytes);
    await tlsRoundTrip(conn, tlsRequest(SIZES.requestBytes), response);
    assertEquals(new DataView(response.buffer).getUint32(0), SIZES.responseBytes);
    conn.close();

    // Without a client certificate the server must not answer.
    let refused = false;
    try {
      const anonymous = await Deno.connectTls({
        hostname: "127.0.0.1",
        port: server.port,
        caCerts: [material.caCert],
      });
      await tlsRoundTrip(anonymous, tlsRequest(SIZES.requestBytes), response);
      anonymous.close();
    } catch {
      refused = true;
    }
    assert(refused, "a client without a certificate got an answer");

    const result = await measureTlsRoundTrips(server.port, material, SIZES, 2, {
      warmupMs: 0,
      measureMs: 100,
    });
    assertEquals(result.failures, 0);
    assert(result.operations > 0, "no round trip counted");
  } finally {
    assertEquals(await server.child.stop(), 0);
    await Deno.remove(dir, { recursive: true });
  }
  const stats = parseTlsStats(server.child.tail());
  assert(stats !== undefined, "the server printed no statistics");
  assertEquals(stats.resumed, 0);
  assertEquals(stats.notTls13, 0);
});
