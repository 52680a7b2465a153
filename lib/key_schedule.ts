/**
 * The key schedule (docs/protocol.md, "Key schedule"): the master secret from the PSK and the
 * X25519 secret, then six labelled keys, all non-extractable `CryptoKey`s.
 *
 * @module
 */

import { concatBytes, utf8, wipeBytes } from "./bytes.ts";
import {
  HASH_BYTES,
  MAC_BYTES,
  MASTER_SECRET_BYTES,
  NONCE_BYTES,
  PSK_BYTES,
  X25519_KEY_BYTES,
} from "./constants.ts";
import { deriveHkdfBits, deriveHkdfKey, type HkdfKeyType, importHkdfKey } from "./hkdf.ts";
import { importHmacSha256Key } from "./hmac.ts";
import { HmacSha256State } from "./hmac_state.ts";

/** Prefix of every HKDF label, so keys of this protocol never collide with any other use. */
export const LABEL_PREFIX = "atm-bank/1 ";

/** The labels, each used for exactly one key. */
export const LABELS = {
  master: "master secret",
  bankFinished: "bank finished",
  atmFinished: "atm finished",
  atmToBankEncryption: "atm->bank enc",
  atmToBankMac: "atm->bank mac",
  bankToAtmEncryption: "bank->atm enc",
  bankToAtmMac: "bank->atm mac",
} as const;

/** Keys that protect one direction of traffic. */
export interface DirectionKeys {
  /** AES-256-CBC. */
  encryption: CryptoKey;
  /** HMAC-SHA256. */
  mac: CryptoKey;
  /**
   * The same MAC key as synchronous SHA-256 states, which the record layer uses when present
   * (lib/hmac_state.ts); `deriveSessionKeys` always sets it.
   */
  macState?: HmacSha256State;
}

/** Everything derived from one handshake. */
export interface SessionKeys {
  /** Keys the bank's reply MAC. */
  bankFinished: CryptoKey;
  /** Keys the ATM's finished MAC. */
  atmFinished: CryptoKey;
  /** Records sent by the ATM. */
  atmToBank: DirectionKeys;
  /** Records sent by the bank. */
  bankToAtm: DirectionKeys;
}

/** Inputs of {@link deriveSessionKeys}. */
export interface KeyScheduleInput {
  /** The ATM's 32-byte pre-shared key. */
  psk: Uint8Array;
  /** The 32-byte X25519 shared secret. */
  sharedSecret: Uint8Array;
  /** The ATM's nonce. */
  atmNonce: Uint8Array;
  /** The bank's nonce. */
  bankNonce: Uint8Array;
  /** SHA-256 of the transcript up to the bank's public key (H1). */
  transcriptHash: Uint8Array;
}

function assertInput(input: KeyScheduleInput): void {
  const sizes: [Uint8Array, number, string][] = [
    [input.psk, PSK_BYTES, "PSK"],
    [input.sharedSecret, X25519_KEY_BYTES, "Shared secret"],
    [input.atmNonce, NONCE_BYTES, "ATM nonce"],
    [input.bankNonce, NONCE_BYTES, "Bank nonce"],
    [input.transcriptHash, HASH_BYTES, "Transcript hash"],
  ];
  for (const [bytes, length, label] of sizes) {
    if (bytes.length !== length) {
      throw new RangeError(`${label} must be ${length} bytes: got ${bytes.length}`);
    }
  }
}

/**
 * Derives the session's keys.
 *
 * master = HKDF-SHA256(ikm = PSK || DH, salt = atm nonce || bank nonce,
 * info = "atm-bank/1 master secret" || H1, 32 bytes); then each key is
 * HKDF-SHA256(ikm = master, salt = empty, info = "atm-bank/1 " || label).
 *
 * @param input PSK, shared secret, nonces and H1. The function wipes its own copies; the caller
 * wipes the originals.
 * @returns Six non-extractable keys.
 * @throws {RangeError} When an input has the wrong length.
 */
export async function deriveSessionKeys(input: KeyScheduleInput): Promise<SessionKeys> {
  assertInput(input);
  const ikm = concatBytes(input.psk, input.sharedSecret);
  const salt = concatBytes(input.atmNonce, input.bankNonce);
  const info = concatBytes(utf8(LABEL_PREFIX + LABELS.master), input.transcriptHash);
  let master: Uint8Array<ArrayBuffer> | undefined;
  let masterKey: CryptoKey;
  try {
    master = await deriveHkdfBits(await importHkdfKey(ikm), { salt, info }, MASTER_SECRET_BYTES);
    masterKey = await importHkdfKey(master);
  } finally {
    wipeBytes(ikm, ...(master ? [master] : []));
  }
  const derive = (label: string, keyType: HkdfKeyType) =>
    deriveHkdfKey(masterKey, { salt: new Uint8Array(0), info: LABEL_PREFIX + label, keyType });
  const [bankFinished, atmFinished, atmEnc, atmMac, bankEnc, bankMac] = await Promise.all([
    derive(LABELS.bankFinished, "hmac-sha256"),
    derive(LABELS.atmFinished, "hmac-sha256"),
    derive(LABELS.atmToBankEncryption, "aes-cbc-256"),
    deriveRecordMacKey(masterKey, LABELS.atmToBankMac),
    derive(LABELS.bankToAtmEncryption, "aes-cbc-256"),
    deriveRecordMacKey(masterKey, LABELS.bankToAtmMac),
  ]);
  return {
    bankFinished,
    atmFinished,
    atmToBank: { encryption: atmEnc, ...atmMac },
    bankToAtm: { encryption: bankEnc, ...bankMac },
  };
}

/**
 * A record MAC key, derived as bytes (the same HKDF output `deriveKey` would use for a 256-bit
 * HMAC key), held as a non-extractable `CryptoKey` and as synchronous SHA-256 states, and wiped.
 */
async function deriveRecordMacKey(
  masterKey: CryptoKey,
  label: string,
): Promise<{ mac: CryptoKey; macState: HmacSha256State }> {
  const info = LABEL_PREFIX + label;
  const bytes = await deriveHkdfBits(masterKey, { salt: new Uint8Array(0), info }, MAC_BYTES);
  try {
    return { mac: await importHmacSha256Key(bytes), macState: new HmacSha256State(bytes) };
  } finally {
    wipeBytes(bytes);
  }
}
