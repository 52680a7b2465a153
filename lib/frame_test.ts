import { assert, assertEquals, assertRejects, assertThrows } from "./_test_assert.ts";
import { tcpPair } from "./_test_net.ts";
import { fromHex, toHex } from "./bytes.ts";
import { FRAME_BYTES_MAX } from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import { encodeFrame, readFrame } from "./frame.ts";
import { FrameReader } from "./frame_reader.ts";

/** Writes bytes one at a time, yielding between them, so the reader sees many partial reads. */
async function dribble(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let index = 0; index < bytes.length; index++) {
    await conn.write(bytes.subarray(index, index + 1));
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** Asserts that the connection was closed by the reader: using it now throws. */
async function assertClosed(conn: Deno.Conn): Promise<void> {
  await assertRejects(conn.read(new Uint8Array(1)), Deno.errors.BadResource);
}

Deno.test("encodeFrame() writes type, big-endian length and body", () => {
  assertEquals(toHex(encodeFrame(0x17, fromHex("aabb"))), "1700000002aabb");
  assertThrows(() => encodeFrame(256, new Uint8Array(0)), RangeError);
  assertThrows(() => encodeFrame(1, new Uint8Array(FRAME_BYTES_MAX + 1)), RangeError);
});

Deno.test("readFrame() reassembles a frame written one byte at a time", async () => {
  const { client, server } = await tcpPair();
  client.setNoDelay(true);
  const body = crypto.getRandomValues(new Uint8Array(300));
  const frames = [encodeFrame(0x17, body), encodeFrame(0x15, new Uint8Array(0))];
  const writing = dribble(client, new Uint8Array([...frames[0], ...frames[1]]));
  const first = await readFrame(server, { frameBytesMax: 1024 });
  const second = await readFrame(server, { frameBytesMax: 1024 });
  await writing;
  assertEquals([first.type, toHex(first.body)], [0x17, toHex(body)]);
  assertEquals([second.type, second.body.length], [0x15, 0]);
  client.close();
  server.close();
});

Deno.test("readFrame() rejects a truncated frame with truncated and closes", async () => {
  const { client, server } = await tcpPair();
  const frame = encodeFrame(0x17, new Uint8Array(100));
  await client.write(frame.subarray(0, 60));
  client.close();
  await assertRejects(readFrame(server, { frameBytesMax: 1024 }), ProtocolError, "truncated");
  await assertClosed(server);
});

Deno.test("readFrame() rejects a truncated header with truncated", async () => {
  const { client, server } = await tcpPair();
  await client.write(new Uint8Array([0x17, 0, 0]));
  client.close();
  await assertRejects(readFrame(server, { frameBytesMax: 1024 }), ProtocolError, "truncated");
  await assertClosed(server);
});

Deno.test("readFrame() reports EOF between frames as closed", async () => {
  const { client, server } = await tcpPair();
  client.close();
  await assertRejects(readFrame(server, { frameBytesMax: 1024 }), ProtocolError, "closed");
  await assertClosed(server);
});

Deno.test("readFrame() rejects a 4 GiB length before reading any body", async () => {
  const { client, server } = await tcpPair();
  // Length 0xffffffff and no body at all: a reader that tried to read the body would hang.
  await client.write(new Uint8Array([0x17, 0xff, 0xff, 0xff, 0xff]));
  const error = await assertRejects(
    readFrame(server, { frameBytesMax: FRAME_BYTES_MAX }),
    ProtocolError,
    "frame_too_large",
  );
  assert(error.message.includes("4294967295"), error.message);
  await assertClosed(server);
  client.close();
});

Deno.test("readFrame() accepts a frame of exactly the limit and refuses one byte more", async () => {
  const { client, server } = await tcpPair();
  await client.write(encodeFrame(0x17, new Uint8Array(64)));
  assertEquals((await readFrame(server, { frameBytesMax: 64 })).body.length, 64);
  await client.write(encodeFrame(0x17, new Uint8Array(65)));
  await assertRejects(readFrame(server, { frameBytesMax: 64 }), ProtocolError, "frame_too_large");
  client.close();
});

Deno.test("readFrame() times out on a stalled frame and closes the connection", async () => {
  const { client, server } = await tcpPair();
  await client.write(new Uint8Array([0x17, 0, 0, 0, 10, 1, 2])); // 2 of 10 body bytes
  await assertRejects(
    readFrame(server, { frameBytesMax: 1024, timeoutMs: 50 }),
    ProtocolError,
    "timeout",
  );
  await assertClosed(server);
  client.close();
});

Deno.test("readFrame() rejects a bad timeout before reading", async () => {
  const { client, server } = await tcpPair();
  await assertRejects(readFrame(server, { frameBytesMax: 10, timeoutMs: 0 }), RangeError);
  client.close();
  server.close();
});

Deno.test("FrameReader refuses a size limit that is not a non-negative integer", () => {
  const conn = {
    read: () => Promise.resolve(null),
    write: () => Promise.resolve(0),
    close: () => {},
  };
  for (const limit of [NaN, -1, 1.5, Infinity]) {
    const error = assertThrows(() => new FrameReader(conn, limit), RangeError);
    assert(error.message.startsWith("Frame size limit"), error.message);
  }
  new FrameReader(conn, 0); // only empty bodies: a valid limit
});
