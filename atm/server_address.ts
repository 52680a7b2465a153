/**
 * Parsing of bank server addresses written as `host:port` (IPv6 as `[::1]:4000`).
 *
 * @module
 */

import { BankClientError } from "./errors.ts";

/** Highest TCP port number. */
const PORT_MAX = 65_535;

/** Longest host name accepted; DNS names are at most 253 characters. */
const HOST_CHARS_MAX = 253;

/** A bank server to connect to. */
export interface ServerAddress {
  /** Host name or IP address, without brackets. */
  hostname: string;
  /** TCP port, 1 to 65535. */
  port: number;
}

/**
 * Parses `host:port`.
 *
 * @example Parse an address
 * ```ts
 * import { parseServerAddress } from "./server_address.ts";
 * const address = parseServerAddress("127.0.0.1:4000");
 * if (address.port !== 4000) throw new Error("unexpected port");
 * ```
 *
 * @param text The address, e.g. `127.0.0.1:4000` or `[::1]:4000`.
 * @returns The host and port.
 * @throws {BankClientError} With code `bad_server` when the text is not `host:port`.
 */
export function parseServerAddress(text: string): ServerAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:\[\]]+)):([0-9]{1,5})$/.exec(text);
  const shown = JSON.stringify(text.slice(0, HOST_CHARS_MAX + 8));
  if (match === null) {
    throw new BankClientError("bad_server", `Server address must be host:port, got ${shown}`);
  }
  const hostname = match[1] ?? match[2];
  const port = Number(match[3]);
  if (hostname.length > HOST_CHARS_MAX) {
    throw new BankClientError(
      "bad_server",
      `Server host is longer than ${HOST_CHARS_MAX} characters`,
    );
  }
  if (port < 1 || port > PORT_MAX) {
    throw new BankClientError("bad_server", `Server port must be 1 to ${PORT_MAX}, got ${shown}`);
  }
  return { hostname, port };
}
