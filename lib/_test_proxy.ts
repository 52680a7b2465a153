/**
 * Test helper: a man in the middle on real loopback TCP. It relays frames between an ATM and a
 * bank and lets a test tamper with, drop, replay or reorder them.
 *
 * @module
 */

import { FRAME_BYTES_MAX } from "./constants.ts";
import { closeQuietly, encodeFrame, readFrame } from "./frame.ts";
import { tcpPair } from "./_test_net.ts";

/** Which way a frame travels. */
export type Way = "to_bank" | "to_atm";

/**
 * Decides what to forward for one frame: the encoded frames to send instead (none drops it), and
 * whether to end the stream towards the receiver afterwards.
 */
export type Tamper = (way: Way, index: number, frame: Uint8Array) => {
  send: Uint8Array[];
  end?: boolean;
};

/** The proxied connection ends. */
export interface ProxiedPair {
  /** The ATM's end. */
  atmConn: Deno.TcpConn;
  /** The bank's end. */
  bankConn: Deno.TcpConn;
  /** Settles when both relay loops have stopped (each stops at EOF or an error). */
  done: Promise<void>;
}

/**
 * Opens two TCP pairs and relays frames between them through `tamper`.
 *
 * @param tamper What to do with each frame; `index` counts frames per direction from 0.
 * @returns The two outer ends and the relay's completion.
 */
export async function proxiedPair(tamper: Tamper): Promise<ProxiedPair> {
  const atmSide = await tcpPair();
  const bankSide = await tcpPair();
  const relay = async (from: Deno.Conn, to: Deno.Conn, way: Way) => {
    try {
      for (let index = 0;; index++) {
        const frame = await readFrame(from, { frameBytesMax: FRAME_BYTES_MAX });
        const decision = tamper(way, index, encodeFrame(frame.type, frame.body));
        for (const bytes of decision.send) await to.write(bytes);
        if (decision.end) break;
      }
    } catch {
      // EOF or a closed end: stop relaying.
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  };
  const done = Promise.all([
    relay(atmSide.server, bankSide.client, "to_bank"),
    relay(bankSide.client, atmSide.server, "to_atm"),
  ]).then(() => {});
  return { atmConn: atmSide.client, bankConn: bankSide.server, done };
}

/** Forwards everything unchanged. */
export const passThrough: Tamper = (_way, _index, frame) => ({ send: [frame] });

/**
 * XORs one byte of one frame with a mask and keeps relaying everything else unchanged, so the
 * protocol itself (not a closed stream) must notice the change.
 *
 * @param target Direction and per-direction index of the frame.
 * @param offset Byte offset inside the encoded frame (header included).
 * @param mask Non-zero XOR mask: `1 << bit` flips one bit, `0xff` every bit of the byte.
 * @returns The tamper function.
 */
export function xorByte(target: { way: Way; index: number }, offset: number, mask: number): Tamper {
  return (way, index, frame) => {
    if (way !== target.way || index !== target.index) return { send: [frame] };
    const copy = frame.slice();
    copy[offset] ^= mask;
    return { send: [copy] };
  };
}
