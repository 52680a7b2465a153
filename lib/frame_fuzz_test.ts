/**
 * Property-based fuzzing of the frame reader with fast-check: arbitrary bytes, split into
 * arbitrary reads, must give either the frame they encode or one of the three framing errors,
 * with the connection closed, never a read past the frame and never a body over the limit. The
 * session's FrameReader, which reads ahead, must give the same frames and errors.
 */

import fc from "fast-check";
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { bytesToU32 } from "./bytes.ts";
import { FRAME_HEADER_BYTES } from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import { encodeFrame, type FrameConn, readFrame } from "./frame.ts";
import { FRAME_READ_BYTES, FrameReader } from "./frame_reader.ts";

/** Runs per property: enough to hit every branch many times, quick on a shared machine. */
const RUNS = 500;

/** Framing errors the reader may raise; anything else escaping it would be a bug. */
const FRAMING_CODES = new Set(["closed", "truncated", "frame_too_large"]);

/** A byte stream in memory that hands out its bytes in the chunk sizes it was given. */
class ChunkedConn implements FrameConn {
  readonly #bytes: Uint8Array;
  readonly #chunks: number[];
  #offset = 0;
  #reads = 0;
  closed = false;

  constructor(bytes: Uint8Array, chunks: number[]) {
    this.#bytes = bytes;
    this.#chunks = chunks.length > 0 ? chunks : [1];
  }

  /** Bytes handed to the reader so far. */
  get consumed(): number {
    return this.#offset;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (this.closed) return Promise.reject(new Deno.errors.BadResource("closed"));
    if (this.#offset >= this.#bytes.length) return Promise.resolve(null);
    const chunk = this.#chunks[this.#reads++ % this.#chunks.length];
    const count = Math.min(chunk, buffer.length, this.#bytes.length - this.#offset);
    buffer.set(this.#bytes.subarray(this.#offset, this.#offset + count));
    this.#offset += count;
    return Promise.resolve(count);
  }

  write(bytes: Uint8Array): Promise<number> {
    return Promise.resolve(bytes.length);
  }

  close(): void {
    this.closed = true;
  }
}

const chunkSizes = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 });

/** Chunk sizes that also let one read bring several frames, or a frame past the first buffer. */
const wideChunkSizes = fc.array(fc.integer({ min: 1, max: FRAME_READ_BYTES * 2 }), {
  minLength: 1,
  maxLength: 8,
});

/** Concatenates frames into one stream. */
function streamOf(frames: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(frames.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of frames) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

/**
 * Byte streams worth reading: pure noise (mostly huge lengths), and real frames that were cut
 * short, had bytes appended, or had one byte overwritten, so every branch of the reader is hit.
 */
const streams = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.record({
    type: fc.integer({ min: 0, max: 255 }),
    body: fc.uint8Array({ maxLength: 250 }),
    cut: fc.nat(),
    extra: fc.uint8Array({ maxLength: 20 }),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
    mutation: fc.constantFrom("none", "cut", "extend", "overwrite"),
  }).map(({ type, body, cut, extra, at, value, mutation }) => {
    const frame = encodeFrame(type, body);
    if (mutation === "cut") return frame.slice(0, cut % frame.length);
    if (mutation === "extend") return new Uint8Array([...frame, ...extra]);
    if (mutation === "overwrite") frame[at % frame.length] = value;
    return frame;
  }),
);

Deno.test("property: readFrame() on arbitrary bytes yields their frame or a framing error", async () => {
  await fc.assert(
    fc.asyncProperty(
      streams,
      chunkSizes,
      fc.integer({ min: 0, max: 256 }),
      async (bytes, chunks, frameBytesMax) => {
        const conn = new ChunkedConn(bytes, chunks);
        try {
          const frame = await readFrame(conn, { frameBytesMax });
          ok(frame.body.length <= frameBytesMax, "body over the limit");
          const encoded = encodeFrame(frame.type, frame.body);
          deepStrictEqual(encoded, bytes.slice(0, encoded.length));
          equal(conn.consumed, encoded.length, "read past the frame");
          equal(conn.closed, false, "closed a healthy connection");
        } catch (error) {
          ok(error instanceof ProtocolError, `not a ProtocolError: ${error}`);
          ok(FRAMING_CODES.has(error.code), `unexpected code ${error.code}`);
          ok(conn.closed, "a failed read must close the connection");
          if (error.code === "frame_too_large") {
            ok(bytesToU32(bytes, 1) > frameBytesMax);
            equal(conn.consumed, FRAME_HEADER_BYTES, "read body bytes of an oversize frame");
          }
        }
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("property: frames split into arbitrary reads come back whole and in order", async () => {
  const frames = fc.array(
    fc.record({ type: fc.integer({ min: 0, max: 255 }), body: fc.uint8Array({ maxLength: 200 }) }),
    { minLength: 1, maxLength: 6 },
  );
  await fc.assert(
    fc.asyncProperty(frames, chunkSizes, async (list, chunks) => {
      const stream = list.map((frame) => encodeFrame(frame.type, frame.body));
      const bytes = new Uint8Array(stream.reduce((sum, part) => sum + part.length, 0));
      let offset = 0;
      for (const part of stream) {
        bytes.set(part, offset);
        offset += part.length;
      }
      const conn = new ChunkedConn(bytes, chunks);
      for (const expected of list) {
        const frame = await readFrame(conn, { frameBytesMax: 200 });
        equal(frame.type, expected.type);
        deepStrictEqual(frame.body, expected.body);
      }
      const end = await readFrame(conn, { frameBytesMax: 200 }).catch((error) => error);
      ok(end instanceof ProtocolError && end.code === "closed", "EOF between frames is closed");
    }),
    { numRuns: RUNS },
  );
});

Deno.test("property: any length prefix above the limit, up to 4 GiB, fails after the 5-byte header", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 1025, max: 0xffffffff }),
      fc.uint8Array({ maxLength: 64 }),
      async (type, length, trailing) => {
        const header = new Uint8Array([type, 0, 0, 0, 0]);
        new DataView(header.buffer).setUint32(1, length);
        const conn = new ChunkedConn(new Uint8Array([...header, ...trailing]), [3]);
        const error = await readFrame(conn, { frameBytesMax: 1024 }).catch((e) => e);
        ok(error instanceof ProtocolError && error.code === "frame_too_large");
        equal(conn.consumed, FRAME_HEADER_BYTES);
        ok(conn.closed);
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("property: FrameReader gives frames split or joined in any reads back whole and in order", async () => {
  const frames = fc.array(
    fc.record({
      type: fc.integer({ min: 0, max: 255 }),
      body: fc.uint8Array({ maxLength: FRAME_READ_BYTES * 2 }),
    }),
    { minLength: 1, maxLength: 6 },
  );
  await fc.assert(
    fc.asyncProperty(frames, wideChunkSizes, async (list, chunks) => {
      const bytes = streamOf(list.map((frame) => encodeFrame(frame.type, frame.body)));
      const conn = new ChunkedConn(bytes, chunks);
      const reader = new FrameReader(conn, FRAME_READ_BYTES * 2);
      for (const expected of list) {
        const frame = await reader.read();
        equal(frame.type, expected.type);
        deepStrictEqual(new Uint8Array(frame.body), expected.body);
      }
      const end = await reader.read().catch((error) => error);
      ok(end instanceof ProtocolError && end.code === "closed", "EOF between frames is closed");
      ok(conn.closed, "a failed read must close the connection");
    }),
    { numRuns: RUNS },
  );
});

Deno.test("property: FrameReader on arbitrary bytes yields their frames, then a framing error", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(streams, { minLength: 1, maxLength: 4 }),
      wideChunkSizes,
      fc.integer({ min: 0, max: 256 }),
      async (parts, chunks, frameBytesMax) => {
        const bytes = streamOf(parts);
        const conn = new ChunkedConn(bytes, chunks);
        const reader = new FrameReader(conn, frameBytesMax);
        let offset = 0;
        while (true) {
          let frame;
          try {
            frame = await reader.read();
          } catch (error) {
            ok(error instanceof ProtocolError, `not a ProtocolError: ${error}`);
            ok(FRAMING_CODES.has(error.code), `unexpected code ${error.code}`);
            ok(conn.closed, "a failed read must close the connection");
            if (error.code === "closed") equal(offset, bytes.length, "closed inside a frame");
            if (error.code === "frame_too_large") {
              ok(bytesToU32(bytes, offset + 1) > frameBytesMax);
              ok(conn.consumed - offset <= FRAME_READ_BYTES, "read on past one buffer");
            }
            return;
          }
          ok(frame.body.length <= frameBytesMax, "body over the limit");
          const encoded = encodeFrame(frame.type, frame.body);
          deepStrictEqual(encoded, bytes.slice(offset, offset + encoded.length));
          equal(conn.closed, false, "closed a healthy connection");
          offset += encoded.length;
        }
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("property: FrameReader refuses any length above the limit, up to 4 GiB, before a body buffer", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 1025, max: 0xffffffff }),
      fc.uint8Array({ maxLength: FRAME_READ_BYTES * 2 }),
      async (type, length, trailing) => {
        const header = new Uint8Array([type, 0, 0, 0, 0]);
        new DataView(header.buffer).setUint32(1, length);
        const conn = new ChunkedConn(new Uint8Array([...header, ...trailing]), [1024]);
        const error = await new FrameReader(conn, 1024).read().catch((e) => e);
        ok(error instanceof ProtocolError && error.code === "frame_too_large");
        ok(conn.consumed <= FRAME_READ_BYTES);
        ok(conn.closed);
      },
    ),
    { numRuns: RUNS },
  );
});
