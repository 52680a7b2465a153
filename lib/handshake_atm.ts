/**
 * The ATM side of the handshake: hello, check the bank's reply, finished (docs/protocol.md,
 * "Handshake").
 *
 * @module
 */

import { type Bytes, copyBytes, wipeBytes } from "./bytes.ts";
import {
  FRAME_BYTES_MAX,
  FRAME_HEADER_BYTES,
  HANDSHAKE_TIMEOUT_MS,
  MAC_BYTES,
  NONCE_BYTES,
  PSK_BYTES,
} from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import {
  abortHandshake,
  handshakeError,
  readHandshakeFrame,
  sessionChannel,
  transcriptHash,
} from "./_handshake_common.ts";
import { ConnDeadline, encodeFrame, FrameType, setNoDelayIfTcp, writeAll } from "./frame.ts";
import { assertAtmId, encodeAtmHello, parseBankReply } from "./handshake_messages.ts";
import { deriveSessionKeys } from "./key_schedule.ts";
import { recordsMaxOf } from "./record.ts";
import type { SecureChannel } from "./secure_channel.ts";
import { generateX25519KeyPair, x25519SharedSecret } from "./x25519.ts";

/** Options of {@link connectChannel}. */
export interface ConnectChannelOptions {
  /** This ATM's id. */
  atmId: string;
  /** This ATM's 32-byte pre-shared key; the channel keeps no copy of it. */
  psk: Uint8Array;
  /** Time the whole handshake may take [HANDSHAKE_TIMEOUT_MS]. */
  timeoutMs?: number;
  /** Records allowed per direction [RECORDS_PER_DIRECTION_MAX]; lower it only to test the limit. */
  recordsMax?: number;
}

/**
 * Runs the ATM side of the handshake over a fresh connection.
 *
 * If the bank rejects our finished message (only possible when it was tampered with on the way),
 * this resolves and the first `receive()` rejects with `handshake_failed`: the handshake has
 * exactly three messages, so the bank's verdict arrives with its first record.
 *
 * @example Connect to a bank
 * ```ts ignore
 * import { connectChannel } from "./handshake_atm.ts";
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 4000 });
 * const channel = await connectChannel(conn, { atmId: "atm-1", psk });
 * await channel.send(new TextEncoder().encode("{}"));
 * ```
 *
 * @param conn A connected socket; owned by the channel afterwards, closed on failure.
 * @param options ATM id, PSK and timeout.
 * @returns The established channel.
 * @throws {RangeError} On a bad ATM id, PSK length, timeout or record limit (the connection is left untouched).
 * @throws {ProtocolError} `bad_mac` when the bank's proof does not verify (wrong key or tampering),
 * `handshake_failed` when the bank sent the failure message, `timeout`, `malformed`, framing codes.
 */
export async function connectChannel(
  conn: Deno.Conn,
  options: ConnectChannelOptions,
): Promise<SecureChannel> {
  assertAtmId(options.atmId);
  if (options.psk.length !== PSK_BYTES) {
    throw new RangeError(`PSK must be ${PSK_BYTES} bytes: got ${options.psk.length}`);
  }
  recordsMaxOf(options.recordsMax);
  // Checks the timeout before anything touches the connection.
  const deadline = new ConnDeadline(conn, options.timeoutMs ?? HANDSHAKE_TIMEOUT_MS);
  const psk = copyBytes(options.psk);
  try {
    setNoDelayIfTcp(conn);
    return await runAtmHandshake(conn, { ...options, psk });
  } catch (error) {
    const failure = handshakeError(error, deadline);
    await abortHandshake(conn, failure);
    throw failure;
  } finally {
    deadline.clear();
    wipeBytes(psk);
  }
}

async function runAtmHandshake(
  conn: Deno.Conn,
  options: ConnectChannelOptions & { psk: Bytes },
): Promise<SecureChannel> {
  // Send hello: our id, a fresh nonce and a fresh ephemeral key.
  const ephemeral = generateX25519KeyPair();
  const atmNonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const hello = encodeFrame(
    FrameType.ATM_HELLO,
    encodeAtmHello({ atmId: options.atmId, nonce: atmNonce, publicKey: ephemeral.publicKey }),
  );
  await writeAll(conn, hello);

  // Read the bank's reply.
  const replyFrame = await readHandshakeFrame(conn, FrameType.BANK_REPLY);
  const reply = parseBankReply(replyFrame.body);
  const replyBytes = encodeFrame(replyFrame.type, replyFrame.body);

  // Derive the keys, bound to the transcript up to the bank's public key.
  const sharedSecret = x25519SharedSecret(ephemeral.privateKey, reply.publicKey);
  const h1 = await transcriptHash(
    hello,
    replyBytes.subarray(0, FRAME_HEADER_BYTES + replyFrame.body.length - MAC_BYTES),
  );
  let keys;
  try {
    keys = deriveSessionKeys({
      psk: options.psk,
      sharedSecret,
      atmNonce,
      bankNonce: reply.nonce,
      transcriptHash: h1,
    }, "atm");
  } finally {
    wipeBytes(sharedSecret);
  }

  // Verify the bank's MAC before trusting anything in the reply.
  if (!keys.bankFinished.verify(reply.mac, h1)) {
    throw new ProtocolError("bad_mac", "Bank reply MAC does not verify: wrong key or tampering");
  }

  // Send finished: our MAC over the whole transcript.
  const h2 = await transcriptHash(hello, replyBytes);
  const finished = encodeFrame(FrameType.ATM_FINISHED, keys.atmFinished.sign(h2));
  await writeAll(conn, finished);
  const h3 = await transcriptHash(hello, replyBytes, finished);

  return sessionChannel(conn, {
    side: "atm",
    atmId: options.atmId,
    finalHash: h3,
    keys,
    recordsMax: options.recordsMax,
    receiveFrameBytesMax: FRAME_BYTES_MAX,
  });
}
