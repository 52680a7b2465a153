/**
 * docs/protocol.md checked against the code: an ATM and a bank written here from the document
 * alone, with only the RFC-tested primitives (X25519, SHA-256, HKDF, HMAC, AES-CBC), talk to the
 * real `acceptChannel()` and `connectChannel()` byte for byte.
 *
 * @module
 */

import { assert, assertEquals, assertRejects } from "./_test_assert.ts";
import { randomPsk, readToEnd, tcpPair } from "./_test_net.ts";
import {
  type Bytes,
  bytesToU32,
  concatBytes,
  toHex,
  u32ToBytes,
  u64ToBytes,
  utf8,
} from "./bytes.ts";
import { acceptChannel, connectChannel } from "./channel.ts";
import { ProtocolError } from "./errors.ts";
import { hkdfSha256 } from "./hkdf.ts";
import { hmacSha256 } from "./hmac.ts";
import { sha256 } from "./sha256.ts";
import { generateX25519KeyPair, x25519SharedSecret } from "./x25519.ts";

// Wire values as the document lists them.
const ATM_HELLO = 0x01;
const BANK_REPLY = 0x02;
const ATM_FINISHED = 0x03;
const HANDSHAKE_FAILURE = 0x0f;
const RECORD_DATA = 0x17;
const RECORD_CLOSE = 0x15;
const ATM_TO_BANK = 0x01;
const BANK_TO_ATM = 0x02;

/** type (1) || length (4, big-endian) || body. */
function frame(type: number, body: Uint8Array): Bytes {
  return concatBytes(new Uint8Array([type]), u32ToBytes(body.length), body);
}

async function readExactly(conn: Deno.Conn, length: number): Promise<Bytes> {
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const count = await conn.read(buffer.subarray(filled));
    if (count === null) throw new Error(`EOF after ${filled} of ${length} bytes`);
    filled += count;
  }
  return buffer;
}

/** Reads one frame and returns its full bytes (header included), type and body. */
async function readRawFrame(conn: Deno.Conn) {
  const header = await readExactly(conn, 5);
  const body = await readExactly(conn, bytesToU32(header, 1));
  return { type: header[0], body, bytes: concatBytes(header, body) };
}

/** The key schedule section: raw key bytes, so this test can use them directly. */
async function specKeys(
  psk: Bytes,
  dh: Bytes,
  atmNonce: Bytes,
  bankNonce: Bytes,
  h1: Bytes,
) {
  const master = await hkdfSha256(
    concatBytes(psk, dh),
    concatBytes(atmNonce, bankNonce),
    concatBytes(utf8("atm-bank/1 master secret"), h1),
    32,
  );
  const key = (label: string) => hkdfSha256(master, new Uint8Array(0), `atm-bank/1 ${label}`, 32);
  return {
    bankFinished: await key("bank finished"),
    atmFinished: await key("atm finished"),
    atmToBank: { encryption: await key("atm->bank enc"), mac: await key("atm->bank mac") },
    bankToAtm: { encryption: await key("bank->atm enc"), mac: await key("bank->atm mac") },
  };
}

type RawDirectionKeys = { encryption: Bytes; mac: Bytes };

async function aesKey(raw: Bytes): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", raw, { name: "AES-CBC" }, false, [
    "encrypt",
    "decrypt",
  ]);
}

/** The records section's MAC input: direction (1) || sequence (8) || type (1) || IV || ciphertext. */
function specMacInput(
  direction: number,
  sequence: number,
  type: number,
  iv: Uint8Array,
  cipher: Uint8Array,
): Bytes {
  return concatBytes(
    new Uint8Array([direction]),
    u64ToBytes(sequence),
    new Uint8Array([type]),
    iv,
    cipher,
  );
}

/** The records section: IV || AES-256-CBC(payload) || HMAC(dir || seq || type || IV || ct). */
async function sealSpecRecord(
  keys: RawDirectionKeys,
  direction: number,
  sequence: number,
  type: number,
  payload: Bytes,
): Promise<Bytes> {
  const iv = crypto.getRandomValues(new Uint8Array(16));
  const cipher = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-CBC", iv }, await aesKey(keys.encryption), payload),
  );
  const macInput = specMacInput(direction, sequence, type, iv, cipher);
  return frame(type, concatBytes(iv, cipher, await hmacSha256(keys.mac, macInput)));
}

async function openSpecRecord(
  keys: RawDirectionKeys,
  direction: number,
  sequence: number,
  record: { type: number; body: Bytes },
): Promise<string> {
  const { type, body } = record;
  const iv = body.subarray(0, 16);
  const cipher = body.subarray(16, body.length - 32);
  const macInput = specMacInput(direction, sequence, type, iv, cipher);
  const mac = toHex(body.subarray(body.length - 32));
  assertEquals(mac, toHex(await hmacSha256(keys.mac, macInput)), `record ${sequence} MAC`);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-CBC", iv },
    await aesKey(keys.encryption),
    cipher,
  );
  return new TextDecoder().decode(plain);
}

Deno.test("an ATM written from docs/protocol.md completes a session with acceptChannel()", async () => {
  const psk = randomPsk();
  const { client, server } = await tcpPair();
  const accepting = acceptChannel(server, {
    lookupPsk: (id) => Promise.resolve(id === "atm-spec" ? psk : undefined),
  });

  // ATM hello: version 1, id length, id, nonce, public key.
  const ephemeral = await generateX25519KeyPair();
  const atmNonce = crypto.getRandomValues(new Uint8Array(32));
  const id = utf8("atm-spec");
  const hello = frame(
    ATM_HELLO,
    concatBytes(new Uint8Array([1, id.length]), id, atmNonce, ephemeral.publicKey),
  );
  assertEquals(hello.length, 5 + 2 + 8 + 64);
  await client.write(hello);

  // Bank reply: 96 bytes of nonce, public key, MAC over H1.
  const reply = await readRawFrame(client);
  assertEquals([reply.type, reply.body.length], [BANK_REPLY, 96]);
  const bankNonce = reply.body.slice(0, 32);
  const bankPublic = reply.body.slice(32, 64);
  const h1 = await sha256(concatBytes(hello, reply.bytes.subarray(0, 5 + 64)));
  const dh = await x25519SharedSecret(ephemeral.privateKey, bankPublic);
  const keys = await specKeys(psk, dh, atmNonce, bankNonce, h1);
  assertEquals(toHex(reply.body.subarray(64)), toHex(await hmacSha256(keys.bankFinished, h1)));

  // ATM finished: MAC over H2, the hash of hello and the whole reply.
  const h2 = await sha256(concatBytes(hello, reply.bytes));
  const finished = frame(ATM_FINISHED, await hmacSha256(keys.atmFinished, h2));
  await client.write(finished);
  const bank = await accepting;
  const h3 = await sha256(concatBytes(hello, reply.bytes, finished));
  assertEquals(bank.sessionId, toHex(h3).slice(0, 16));
  assertEquals(bank.atmId, "atm-spec");

  // Records: sequence numbers count from 0 in each direction.
  for (const [sequence, text] of ["first", "second"].entries()) {
    await client.write(
      await sealSpecRecord(keys.atmToBank, ATM_TO_BANK, sequence, RECORD_DATA, utf8(text)),
    );
    assertEquals(new TextDecoder().decode(await bank.receive()), text);
  }
  for (const [sequence, text] of ["one", "two"].entries()) {
    await bank.send(utf8(text));
    const record = await readRawFrame(client);
    assertEquals(record.type, RECORD_DATA);
    assertEquals(await openSpecRecord(keys.bankToAtm, BANK_TO_ATM, sequence, record), text);
  }

  // Close: an empty record of type 0x15 with the next sequence number.
  await client.write(
    await sealSpecRecord(keys.atmToBank, ATM_TO_BANK, 2, RECORD_CLOSE, new Uint8Array(0)),
  );
  const error = await assertRejects(bank.receive(), ProtocolError, "closed");
  assert(error.message.includes("authenticated"), error.message);
  client.close();
});

Deno.test("a bank written from docs/protocol.md completes a session with connectChannel()", async () => {
  const psk = randomPsk();
  const { client, server } = await tcpPair();
  const connecting = connectChannel(client, { atmId: "atm-7", psk });

  // Read and take apart the hello.
  const hello = await readRawFrame(server);
  assertEquals([hello.type, hello.body[0], hello.body[1]], [ATM_HELLO, 1, 5]);
  assertEquals(new TextDecoder().decode(hello.body.subarray(2, 7)), "atm-7");
  const atmNonce = hello.body.slice(7, 39);
  const atmPublic = hello.body.slice(39, 71);
  assertEquals(hello.body.length, 71);

  // Reply with nonce, key and the MAC over H1.
  const ephemeral = await generateX25519KeyPair();
  const bankNonce = crypto.getRandomValues(new Uint8Array(32));
  const unsigned = concatBytes(
    new Uint8Array([BANK_REPLY]),
    u32ToBytes(96),
    bankNonce,
    ephemeral.publicKey,
  );
  const h1 = await sha256(concatBytes(hello.bytes, unsigned));
  const dh = await x25519SharedSecret(ephemeral.privateKey, atmPublic);
  const keys = await specKeys(psk, dh, atmNonce, bankNonce, h1);
  const reply = concatBytes(unsigned, await hmacSha256(keys.bankFinished, h1));
  await server.write(reply);

  // The finished MAC covers H2.
  const finished = await readRawFrame(server);
  assertEquals([finished.type, finished.body.length], [ATM_FINISHED, 32]);
  const h2 = await sha256(concatBytes(hello.bytes, reply));
  assertEquals(toHex(finished.body), toHex(await hmacSha256(keys.atmFinished, h2)));
  const atm = await connecting;
  const h3 = await sha256(concatBytes(hello.bytes, reply, finished.bytes));
  assertEquals(atm.sessionId, toHex(h3).slice(0, 16));

  // One record each way, then the ATM's close record (sequence 1).
  await atm.send(utf8("request"));
  assertEquals(
    await openSpecRecord(keys.atmToBank, ATM_TO_BANK, 0, await readRawFrame(server)),
    "request",
  );
  await server.write(
    await sealSpecRecord(keys.bankToAtm, BANK_TO_ATM, 0, RECORD_DATA, utf8("response")),
  );
  assertEquals(new TextDecoder().decode(await atm.receive()), "response");
  await atm.close();
  const close = await readRawFrame(server);
  assertEquals(close.type, RECORD_CLOSE);
  assertEquals(await openSpecRecord(keys.atmToBank, ATM_TO_BANK, 1, close), "");
  server.close();
});

Deno.test("the generic failure message is the 5 bytes 0f 00 00 00 00", async () => {
  const { client, server } = await tcpPair();
  const accepting = acceptChannel(server, { lookupPsk: () => Promise.resolve(undefined) });
  const failing = accepting.catch((error) => error);
  // A frame type that is not a hello is refused with the failure message.
  await client.write(frame(ATM_FINISHED, new Uint8Array(32)));
  assertEquals(toHex(await readToEnd(client)), toHex(frame(HANDSHAKE_FAILURE, new Uint8Array(0))));
  assert((await failing) instanceof ProtocolError);
});
