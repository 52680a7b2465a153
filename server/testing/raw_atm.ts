/**
 * Test support: an ATM reduced to the protocol, for sending requests the real ATM would refuse to
 * send (bad amounts, reused request ids) straight to a real bank.
 *
 * @module
 */

import { decodeResponse, encodeMessage, type Request, type Response } from "../../lib/messages.ts";
import { connectChannel, readCredential, type SecureChannel } from "../../lib/mod.ts";

/**
 * How long a raw ATM waits for the answer to one request: a PIN check or a group commit on a
 * busy, shared test machine takes well under this.
 */
const RESPONSE_TIMEOUT_MS = 15_000;

/** One open secure channel to a bank, speaking raw requests. */
export interface RawAtm {
  send(request: Request): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Connects with a credential file and completes the handshake.
 *
 * @param credentialPath The ATM credential file.
 * @param port The bank's port on 127.0.0.1.
 * @returns The raw ATM.
 */
export async function connectRawAtm(credentialPath: string, port: number): Promise<RawAtm> {
  const credential = await readCredential(credentialPath);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const channel: SecureChannel = await connectChannel(conn, {
    atmId: credential.atmId,
    psk: credential.psk,
  });
  return {
    async send(request) {
      await channel.send(encodeMessage(request));
      return decodeResponse(await channel.receive({ timeoutMs: RESPONSE_TIMEOUT_MS }));
    },
    close: () => channel.close(),
  };
}
