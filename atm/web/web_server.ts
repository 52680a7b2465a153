/**
 * `atm --web`: serves the ATM screen on 127.0.0.1 until the process is stopped. The page talks to
 * this process only; this process talks to the bank through the same secure channel and
 * {@link BankClient} as the terminal ATM.
 *
 * @module
 */

import { BankClient, type BankClientOptions } from "../bank_client.ts";
import { AtmScreen } from "./atm_screen.ts";
import { ATM_WEB_HOST } from "./constants.ts";
import { atmWebApp } from "./web_app.ts";

/** Options for {@link startAtmWeb}. */
export interface AtmWebServerOptions {
  /** The ATM's identity and bank servers; the key is copied for each card session. */
  identity: Pick<BankClientOptions, "atmId" | "psk" | "servers" | "onEvent">;
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** A user name given with `--user`, shown pre-filled on the screen. */
  presetUser?: string;
}

/** A running ATM screen. */
export interface AtmWebServer {
  /** The page to open, e.g. `http://127.0.0.1:4090/`. */
  url: string;
  /** Ends the customer's session, wipes the key and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts the ATM screen.
 *
 * @param options Identity, port and preset user.
 * @returns The running screen.
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 */
export async function startAtmWeb(options: AtmWebServerOptions): Promise<AtmWebServer> {
  // The server keeps its own copy of the key for the card sessions to come; wiped on close.
  const psk = new Uint8Array(options.identity.psk);
  const screen = new AtmScreen({
    connect: () => new BankClient({ ...options.identity, psk }),
  });
  let boundPort = options.port;
  const app = atmWebApp({ screen, port: () => boundPort, presetUser: options.presetUser });
  const abort = new AbortController();
  const listening = Promise.withResolvers<Deno.NetAddr>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: ATM_WEB_HOST,
      port: options.port,
      signal: abort.signal,
      onListen: (addr) => {
        boundPort = addr.port;
        listening.resolve(addr);
      },
    }, (request) => app.fetch(request));
  } catch (error) {
    psk.fill(0);
    if (error instanceof Deno.errors.AddrInUse) {
      throw new Deno.errors.AddrInUse(
        `Port ${options.port} is in use: pick another with --web-port, or 0 for any free one`,
      );
    }
    throw error;
  }
  const addr = await listening.promise;
  return {
    url: `http://${ATM_WEB_HOST}:${addr.port}/`,
    async close() {
      await screen.close();
      psk.fill(0);
      abort.abort();
      await server.finished;
    },
  };
}
