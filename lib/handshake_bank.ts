/**
 * The bank side of the handshake: read the hello, look up the ATM's key, reply with a MAC, check
 * the ATM's finished (docs/protocol.md, "Handshake").
 *
 * An unknown ATM id is handled exactly like a known one with a random key, so the bytes on the
 * wire (and the work done) do not tell an attacker which ids exist.
 *
 * @module
 */

import { type Bytes, copyBytes, wipeBytes } from "./bytes.ts";
import {
  FRAME_BYTES_MAX,
  HANDSHAKE_TIMEOUT_MS,
  MAC_BYTES,
  NONCE_BYTES,
  PSK_BYTES,
  RECORD_BYTES_MIN,
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
import { encodeBankReply, parseAtmFinished, parseAtmHello } from "./handshake_messages.ts";
import { deriveSessionKeys } from "./key_schedule.ts";
import { recordsMaxOf } from "./record.ts";
import type { SecureChannel } from "./secure_channel.ts";
import { generateX25519KeyPair, x25519SharedSecret } from "./x25519.ts";

/** Options of {@link acceptChannel}. */
export interface AcceptChannelOptions {
  /** The ATM's PSK, or undefined (or null) for an unknown or revoked ATM. The bank keeps no copy. */
  lookupPsk: (atmId: string) => Promise<Uint8Array | undefined | null>;
  /** Time the whole handshake may take, lookup included [HANDSHAKE_TIMEOUT_MS]. */
  timeoutMs?: number;
  /** Largest record frame accepted from the ATM, up to [FRAME_BYTES_MAX]. */
  frameBytesMax?: number;
  /** Records allowed per direction [RECORDS_PER_DIRECTION_MAX]; lower it only to test the limit. */
  recordsMax?: number;
}

/** What the lookup gave: a PSK to use, and whether it is the real one. */
interface KeyChoice {
  psk: Bytes;
  known: boolean;
}

function frameBytesMaxOf(frameBytesMax = FRAME_BYTES_MAX): number {
  if (
    !Number.isInteger(frameBytesMax) || frameBytesMax < RECORD_BYTES_MIN ||
    frameBytesMax > FRAME_BYTES_MAX
  ) {
    throw new RangeError(
      `frameBytesMax must be an integer from ${RECORD_BYTES_MIN} to ${FRAME_BYTES_MAX}: ` +
        `got ${frameBytesMax}`,
    );
  }
  return frameBytesMax;
}

/**
 * Runs the bank side of the handshake over an accepted connection. On failure it sends the one
 * generic failure message (unless the peer is gone or already said it failed), closes the
 * connection, and throws with the real reason for the local log.
 *
 * @example Serve one connection
 * ```ts ignore
 * import { acceptChannel } from "./handshake_bank.ts";
 * const channel = await acceptChannel(conn, { lookupPsk: (id) => store.pskOf(id) });
 * const request = await channel.receive({ timeoutMs: 60_000 });
 * ```
 *
 * @param conn An accepted socket; owned by the channel afterwards, closed on failure.
 * @param options PSK lookup, timeout and frame limit.
 * @returns The established channel.
 * @throws {RangeError} On a bad option (the connection is left untouched) or when `lookupPsk`
 * returns a key that is not 32 bytes (after the failure message and close).
 * @throws {ProtocolError} `unknown_atm` (any failure once the id is known to be unknown),
 * `bad_mac` (wrong key or tampering), `handshake_failed` (the ATM rejected our reply),
 * `malformed`, `unexpected_message`, `timeout`, framing codes.
 * @throws {Error} Whatever `lookupPsk` throws, after the failure message and close.
 */
export async function acceptChannel(
  conn: Deno.Conn,
  options: AcceptChannelOptions,
): Promise<SecureChannel> {
  const frameBytesMax = frameBytesMaxOf(options.frameBytesMax);
  recordsMaxOf(options.recordsMax);
  const deadline = new ConnDeadline(conn, options.timeoutMs ?? HANDSHAKE_TIMEOUT_MS);
  const state: { choice?: KeyChoice } = {};
  try {
    setNoDelayIfTcp(conn);
    return await runBankHandshake(conn, { ...options, frameBytesMax }, state);
  } catch (error) {
    const cause = handshakeError(error, deadline);
    let failure = cause;
    if (state.choice?.known === false && !(cause instanceof RangeError)) {
      // The real reason: whatever the ATM did next, this id would never have succeeded.
      failure = new ProtocolError("unknown_atm", "ATM id in the hello is not registered", {
        cause,
      });
    }
    // Whether to send the failure message follows what happened, not what is reported, so an
    // unknown id behaves on the wire exactly like a wrong key.
    await abortHandshake(conn, cause);
    throw failure;
  } finally {
    deadline.clear();
    if (state.choice) wipeBytes(state.choice.psk);
  }
}

async function chooseKey(
  lookupPsk: AcceptChannelOptions["lookupPsk"],
  atmId: string,
): Promise<KeyChoice> {
  const found = await lookupPsk(atmId);
  if (found === undefined || found === null) {
    // A random stand-in: same computation, same reply shape, and the MAC simply never matches.
    return { psk: crypto.getRandomValues(new Uint8Array(PSK_BYTES)), known: false };
  }
  if (found.length !== PSK_BYTES) {
    throw new RangeError(`lookupPsk returned a key of ${found.length} bytes, not ${PSK_BYTES}`);
  }
  return { psk: copyBytes(found), known: true };
}

async function runBankHandshake(
  conn: Deno.Conn,
  options: AcceptChannelOptions & { frameBytesMax: number },
  state: { choice?: KeyChoice },
): Promise<SecureChannel> {
  // Read the ATM's hello.
  const helloFrame = await readHandshakeFrame(conn, FrameType.ATM_HELLO);
  const hello = parseAtmHello(helloFrame.body);
  const helloBytes = encodeFrame(helloFrame.type, helloFrame.body);

  // Look up the ATM's key; an unknown id gets a random one.
  state.choice = await chooseKey(options.lookupPsk, hello.atmId);

  // Our half of the exchange, then the keys bound to the transcript so far (H1).
  const ephemeral = generateX25519KeyPair();
  const bankNonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sharedSecret = x25519SharedSecret(ephemeral.privateKey, hello.publicKey);
  const unsigned = encodeFrame(
    FrameType.BANK_REPLY,
    encodeBankReply({
      nonce: bankNonce,
      publicKey: ephemeral.publicKey,
      mac: new Uint8Array(MAC_BYTES),
    }),
  );
  const macOffset = unsigned.length - MAC_BYTES;
  const h1 = await transcriptHash(helloBytes, unsigned.subarray(0, macOffset));
  let keys;
  try {
    keys = deriveSessionKeys({
      psk: state.choice.psk,
      sharedSecret,
      atmNonce: hello.nonce,
      bankNonce,
      transcriptHash: h1,
    }, "bank");
  } finally {
    wipeBytes(sharedSecret);
  }

  // Send the reply with our MAC over H1.
  unsigned.set(keys.bankFinished.sign(h1), macOffset);
  const replyBytes = unsigned;
  await writeAll(conn, replyBytes);

  // Read the ATM's finished and verify it before trusting the session.
  const finishedFrame = await readHandshakeFrame(conn, FrameType.ATM_FINISHED);
  const atmMac = parseAtmFinished(finishedFrame.body);
  const h2 = await transcriptHash(helloBytes, replyBytes);
  if (!keys.atmFinished.verify(atmMac, h2)) {
    throw new ProtocolError("bad_mac", "ATM finished MAC does not verify: wrong key or tampering");
  }
  if (!state.choice.known) {
    // Unreachable without guessing a random 256-bit key; kept so the rule does not rest on luck.
    throw new ProtocolError("unknown_atm", "ATM id in the hello is not registered");
  }
  const finishedBytes = encodeFrame(finishedFrame.type, finishedFrame.body);
  const h3 = await transcriptHash(helloBytes, replyBytes, finishedBytes);

  return sessionChannel(conn, {
    side: "bank",
    atmId: hello.atmId,
    finalHash: h3,
    keys,
    recordsMax: options.recordsMax,
    receiveFrameBytesMax: options.frameBytesMax,
  });
}
