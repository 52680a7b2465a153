/**
 * The ATM credential file: the ATM's id, its pre-shared key and the bank servers to try, as a small
 * JSON object in an owner-only file (docs/protocol.md, "Credential file").
 *
 * @module
 */

import { fromBase64Url, toBase64Url, utf8, wipeBytes } from "./bytes.ts";
import { PSK_BYTES } from "./constants.ts";
import { assertAtmId } from "./handshake_messages.ts";
import { readSecretFile, SecretFileError, writeSecretFile } from "./secret_file.ts";

/** The `format` value of version 1 files. */
export const CREDENTIAL_FORMAT = "atm-credential/1";

/** Bank servers listed at most; failover over more than a handful is not useful. */
export const CREDENTIAL_SERVERS_MAX = 16;

/** Longest `host:port`: a 253-character DNS name, brackets, colon, port. */
const SERVER_CHARS_MAX = 253 + 2 + 1 + 5;

/** Highest TCP port. */
const PORT_MAX = 65_535;

/** `host:port` with a DNS name, IPv4, or bracketed IPv6 host. */
const SERVER_PATTERN =
  /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):([0-9]{1,5})$/;

/** What an ATM needs to reach the bank. */
export interface AtmCredential {
  /** The ATM id, as registered at the bank. */
  atmId: string;
  /** The 32-byte pre-shared key. */
  psk: Uint8Array;
  /** Bank servers as `host:port`, in the order to try them. */
  servers: string[];
}

/** Why a credential file could not be written or read. */
export type CredentialErrorCode =
  | "missing"
  | "insecure_permissions"
  | "malformed"
  | "exists"
  | "unreadable";

/** A credential file problem; messages never contain the key. */
export class CredentialError extends Error {
  /** What went wrong: see {@link CredentialErrorCode}. */
  readonly code: CredentialErrorCode;

  /**
   * Creates the error.
   *
   * @param code What went wrong.
   * @param message Path and problem.
   * @param options The underlying error, if any.
   */
  constructor(code: CredentialErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CredentialError";
    this.code = code;
  }
}

function malformed(path: string, problem: string): CredentialError {
  return new CredentialError("malformed", `Credential file ${path}: ${problem}`);
}

function checkServers(path: string, servers: unknown): string[] {
  if (!Array.isArray(servers) || servers.length < 1 || servers.length > CREDENTIAL_SERVERS_MAX) {
    throw malformed(path, `"servers" must list 1 to ${CREDENTIAL_SERVERS_MAX} addresses`);
  }
  for (const server of servers) {
    const match = typeof server === "string" && server.length <= SERVER_CHARS_MAX
      ? SERVER_PATTERN.exec(server)
      : null;
    const port = match ? Number(match[1]) : 0;
    if (port < 1 || port > PORT_MAX) {
      const shown = typeof server === "string"
        ? JSON.stringify(server.slice(0, 64))
        : typeof server;
      throw malformed(path, `server must be host:port with a port of 1-${PORT_MAX}: got ${shown}`);
    }
  }
  return [...servers];
}

function checkAtmId(path: string, atmId: unknown): string {
  try {
    assertAtmId(atmId as string);
  } catch (error) {
    throw malformed(path, (error as Error).message);
  }
  return atmId as string;
}

/**
 * Writes a credential file with mode 0600. Refuses to overwrite an existing file.
 *
 * @param path The file to create.
 * @param credential The ATM id, 32-byte PSK and 1-16 `host:port` servers.
 * @throws {CredentialError} `malformed` on a bad field (nothing is written), `exists`, or
 * `unreadable` when the file cannot be created.
 */
export async function writeCredential(path: string, credential: AtmCredential): Promise<void> {
  const atmId = checkAtmId(path, credential.atmId);
  const servers = checkServers(path, credential.servers);
  if (!(credential.psk instanceof Uint8Array) || credential.psk.length !== PSK_BYTES) {
    throw malformed(path, `the PSK must be ${PSK_BYTES} bytes`);
  }
  const text = JSON.stringify(
    { format: CREDENTIAL_FORMAT, atmId, psk: toBase64Url(credential.psk), servers },
    null,
    2,
  ) + "\n";
  const bytes = utf8(text);
  try {
    await writeSecretFile(path, bytes);
  } catch (error) {
    throw asCredentialError(error);
  } finally {
    wipeBytes(bytes);
  }
}

/**
 * Reads a credential file, refusing one that group or others can access.
 *
 * @param path The file.
 * @returns The credential; the caller should wipe `psk` when done.
 * @throws {CredentialError} `missing`, `insecure_permissions`, `malformed` (with the field at
 * fault, never its value when it is the key), `unreadable`.
 */
export async function readCredential(path: string): Promise<AtmCredential> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await readSecretFile(path);
  } catch (error) {
    throw asCredentialError(error);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    // JSON.parse quotes the text around the error, which may be the key: say nothing more.
    throw malformed(path, "not valid UTF-8 JSON");
  } finally {
    wipeBytes(bytes);
  }
  return parseCredential(path, parsed);
}

function parseCredential(path: string, parsed: unknown): AtmCredential {
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw malformed(path, "must hold a JSON object");
  }
  const record = parsed as Record<string, unknown>;
  const keys = Object.keys(record).sort().join(",");
  if (keys !== "atmId,format,psk,servers") {
    throw malformed(path, `must have exactly "format", "atmId", "psk", "servers": got ${keys}`);
  }
  if (record.format !== CREDENTIAL_FORMAT) {
    throw malformed(path, `"format" must be "${CREDENTIAL_FORMAT}"`);
  }
  const atmId = checkAtmId(path, record.atmId);
  const servers = checkServers(path, record.servers);
  let psk: Uint8Array;
  try {
    psk = fromBase64Url(typeof record.psk === "string" ? record.psk : "!");
  } catch {
    throw malformed(path, `"psk" must be ${PSK_BYTES} bytes in unpadded base64url`);
  }
  if (psk.length !== PSK_BYTES) {
    wipeBytes(psk);
    throw malformed(path, `"psk" must be ${PSK_BYTES} bytes in unpadded base64url`);
  }
  return { atmId, psk, servers };
}

function asCredentialError(error: unknown): unknown {
  if (!(error instanceof SecretFileError)) return error;
  const message = error.message.replace("Secret file", "Credential file");
  return new CredentialError(error.code, message, { cause: error });
}
