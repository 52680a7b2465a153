/**
 * The key schedule (docs/protocol.md, "Key schedule"): the master secret from the PSK and the
 * X25519 secret, then six labelled keys. Each side keeps the four it uses in native hash states and
 * cipher contexts, never as bytes in JavaScript memory.
 *
 * @module
 */

import { createSecretKey, hkdfSync, type KeyObject } from "node:crypto";
import { AesCbcDecrypter, AesCbcEncrypter } from "./aes_cbc.ts";
import { type Bytes, concatBytes, utf8, wipeBytes } from "./bytes.ts";
import { HASH_BYTES, NONCE_BYTES, PSK_BYTES, X25519_KEY_BYTES } from "./constants.ts";
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

/** The keys with which one side sends records: its direction's cipher and MAC. */
export interface SendingKeys {
  /** AES-256-CBC, the key inside a native context. */
  encrypter: AesCbcEncrypter;
  /** HMAC-SHA256 as precomputed SHA-256 states. */
  mac: HmacSha256State;
}

/** The keys with which one side opens the peer's records. */
export interface ReceivingKeys {
  /** AES-256-CBC, the key inside a native context. */
  decrypter: AesCbcDecrypter;
  /** HMAC-SHA256 as precomputed SHA-256 states. */
  mac: HmacSha256State;
}

/** Which end of the channel derives the keys: it sends in its own direction. */
export type ChannelSide = "atm" | "bank";

/** Everything one side derives from a handshake. */
export interface SessionKeys {
  /** Keys the bank's reply MAC. */
  bankFinished: HmacSha256State;
  /** Keys the ATM's finished MAC. */
  atmFinished: HmacSha256State;
  /** This side's records: ATM to bank for the ATM, bank to ATM for the bank. */
  sending: SendingKeys;
  /** The peer's records. */
  receiving: ReceivingKeys;
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
 * HKDF-SHA256 (RFC 5869) to one 32-byte key, in native code (`node:crypto` `hkdfSync`): the
 * pseudorandom key between extract and expand never enters JavaScript, and the output is a fresh
 * buffer the caller wipes. Not `HmacSha256State`: it returns digests as strings, which suit
 * public tags but cannot be wiped.
 */
function hkdfKey(ikm: Uint8Array | KeyObject, salt: Uint8Array, info: Uint8Array): Bytes {
  return new Uint8Array(hkdfSync("sha256", ikm, salt, info, HASH_BYTES));
}

/** An empty HKDF salt stands for one hash length of zero bytes (RFC 5869 section 2.2). */
const EMPTY_SALT = new Uint8Array(HASH_BYTES);

/**
 * Derives one side's session keys, synchronously (RFC 5869 HKDF-SHA256 in native code, see
 * `hkdfKey`).
 *
 * master = HKDF-SHA256(ikm = PSK || DH, salt = atm nonce || bank nonce,
 * info = "atm-bank/1 master secret" || H1, 32 bytes); then each key is
 * HKDF-SHA256(ikm = master, salt = empty, info = "atm-bank/1 " || label), 32 bytes.
 *
 * Every intermediate secret exists as bytes only until the next step has taken it into a native
 * key object, hash state or cipher context, and is wiped then.
 *
 * @param input PSK, shared secret, nonces and H1. The function wipes its own copies; the caller
 * wipes the originals.
 * @param side Which end this is: it gets its own direction's sending keys and the peer's
 * receiving keys.
 * @returns The finished-MAC keys and this side's record keys.
 * @throws {RangeError} When an input has the wrong length.
 */
export function deriveSessionKeys(input: KeyScheduleInput, side: ChannelSide): SessionKeys {
  assertInput(input);
  const ikm = concatBytes(input.psk, input.sharedSecret);
  const salt = concatBytes(input.atmNonce, input.bankNonce);
  const info = concatBytes(utf8(LABEL_PREFIX + LABELS.master), input.transcriptHash);
  const secrets: Uint8Array[] = [ikm];
  try {
    const masterBytes = hkdfKey(ikm, salt, info);
    secrets.push(masterBytes);
    const master = createSecretKey(masterBytes); // one native copy for the six derivations
    const keyBytes = (label: string): Bytes => {
      const bytes = hkdfKey(master, EMPTY_SALT, utf8(LABEL_PREFIX + label));
      secrets.push(bytes);
      return bytes;
    };
    const [sendEnc, sendMac, receiveEnc, receiveMac] = side === "atm"
      ? [
        LABELS.atmToBankEncryption,
        LABELS.atmToBankMac,
        LABELS.bankToAtmEncryption,
        LABELS.bankToAtmMac,
      ]
      : [
        LABELS.bankToAtmEncryption,
        LABELS.bankToAtmMac,
        LABELS.atmToBankEncryption,
        LABELS.atmToBankMac,
      ];
    return {
      bankFinished: new HmacSha256State(keyBytes(LABELS.bankFinished)),
      atmFinished: new HmacSha256State(keyBytes(LABELS.atmFinished)),
      sending: {
        encrypter: new AesCbcEncrypter(keyBytes(sendEnc)),
        mac: new HmacSha256State(keyBytes(sendMac)),
      },
      receiving: {
        decrypter: new AesCbcDecrypter(keyBytes(receiveEnc)),
        mac: new HmacSha256State(keyBytes(receiveMac)),
      },
    };
  } finally {
    wipeBytes(...secrets);
  }
}
