import { assert, assertEquals, assertRejects, assertThrows } from "./_test_assert.ts";
import { type Bytes, concatBytes, toHex, u64ToBytes } from "./bytes.ts";
import { RECORDS_PER_DIRECTION_MAX } from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import { FrameType } from "./frame.ts";
import { AesCbcDecrypter, AesCbcEncrypter } from "./aes_cbc.ts";
import { HmacSha256State } from "./hmac_state.ts";
import { Direction, recordBytes, RecordOpener, RecordSealer, recordsMaxOf } from "./record.ts";

/** Raw key bytes, and the encryption key as a CryptoKey, so the test can recompute what the layer does. */
interface RawKeys {
  encryptionBytes: Bytes;
  macBytes: Bytes;
  encryption: CryptoKey;
}

async function rawKeys(): Promise<RawKeys> {
  const encryptionBytes = crypto.getRandomValues(new Uint8Array(32));
  const macBytes = crypto.getRandomValues(new Uint8Array(32));
  const encryption = await crypto.subtle.importKey(
    "raw",
    encryptionBytes,
    { name: "AES-CBC", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  return { encryptionBytes, macBytes, encryption };
}

async function hmacHex(keyBytes: Bytes, data: Bytes): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    keyBytes,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return toHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, data)));
}

function sending(raw: RawKeys) {
  return {
    encrypter: new AesCbcEncrypter(raw.encryptionBytes),
    mac: new HmacSha256State(raw.macBytes),
  };
}

function receiving(raw: RawKeys) {
  return {
    decrypter: new AesCbcDecrypter(raw.encryptionBytes),
    mac: new HmacSha256State(raw.macBytes),
  };
}

function pair(raw: RawKeys, recordsMax?: number) {
  const direction = Direction.ATM_TO_BANK;
  return {
    sealer: new RecordSealer({ direction, keys: sending(raw), recordsMax }),
    opener: new RecordOpener({ direction, keys: receiving(raw), recordsMax }),
  };
}

const DATA = FrameType.RECORD_DATA;

function text(value: string): Bytes {
  return new TextEncoder().encode(value) as Bytes;
}

Deno.test("RecordSealer.seal() writes IV || AES-256-CBC ciphertext || HMAC(dir || seq || type || IV || ciphertext)", async () => {
  const raw = await rawKeys();
  const { sealer } = pair(raw);
  const ivs = new Set<string>();
  for (const [sequence, size] of [0, 1, 15, 16, 17, 100].entries()) {
    const payload = crypto.getRandomValues(new Uint8Array(size));
    const body = sealer.seal(DATA, payload);
    // PKCS#7 always pads: 1 to 16 bytes, so the ciphertext is the next whole block count.
    const cipherBytes = (Math.floor(size / 16) + 1) * 16;
    assertEquals(body.length, 16 + cipherBytes + 32, `body of a ${size}-byte payload`);
    const iv = body.slice(0, 16);
    const cipher = body.slice(16, 16 + cipherBytes);
    ivs.add(toHex(iv));

    const macInput = concatBytes(
      new Uint8Array([Direction.ATM_TO_BANK]),
      u64ToBytes(sequence),
      new Uint8Array([DATA]),
      iv,
      cipher,
    );
    assertEquals(toHex(body.subarray(16 + cipherBytes)), await hmacHex(raw.macBytes, macInput));

    const plain = await crypto.subtle.decrypt(
      { name: "AES-CBC", iv },
      raw.encryption,
      cipher,
    );
    assertEquals(toHex(new Uint8Array(plain)), toHex(payload), `payload of ${size} bytes`);
  }
  assertEquals(ivs.size, 6, "a fresh IV per record");
});

Deno.test("RecordOpener.open() returns payloads in order and rejects a replayed record", async () => {
  const keys = await rawKeys();
  const { sealer, opener } = pair(keys);
  const first = sealer.seal(DATA, text("one"));
  const second = sealer.seal(DATA, text("two"));
  assertEquals(new TextDecoder().decode(opener.open(DATA, first)), "one");
  assertEquals(new TextDecoder().decode(opener.open(DATA, second)), "two");
  await assertRejects(() => opener.open(DATA, second), ProtocolError, "bad_mac");
});

Deno.test("RecordOpener.open() rejects a reordered record and a record after a dropped one", async () => {
  const keys = await rawKeys();
  const reordered = pair(keys);
  reordered.sealer.seal(DATA, text("first"));
  const second = reordered.sealer.seal(DATA, text("second"));
  await assertRejects(() => reordered.opener.open(DATA, second), ProtocolError, "bad_mac");

  const dropped = pair(keys);
  const kept = dropped.sealer.seal(DATA, text("kept"));
  dropped.sealer.seal(DATA, text("dropped"));
  const after = dropped.sealer.seal(DATA, text("after"));
  dropped.opener.open(DATA, kept);
  await assertRejects(() => dropped.opener.open(DATA, after), ProtocolError, "bad_mac");
});

Deno.test("RecordOpener.open() rejects a record reflected with the same keys in the other direction", async () => {
  // Real sessions have different keys per direction too; this isolates the direction byte.
  const keys = await rawKeys();
  const sealer = new RecordSealer({ direction: Direction.ATM_TO_BANK, keys: sending(keys) });
  const opener = new RecordOpener({ direction: Direction.BANK_TO_ATM, keys: receiving(keys) });
  await assertRejects(
    () => opener.open(DATA, sealer.seal(DATA, text("x"))),
    ProtocolError,
    "bad_mac",
  );
});

Deno.test("RecordOpener.open() rejects a data record presented as a close record", async () => {
  const keys = await rawKeys();
  const { sealer, opener } = pair(keys);
  const body = sealer.seal(DATA, new Uint8Array(0));
  await assertRejects(() => opener.open(FrameType.RECORD_CLOSE, body), ProtocolError, "bad_mac");
});

Deno.test("RecordOpener.open() rejects any single flipped bit of a record", async () => {
  const keys = await rawKeys();
  const body = pair(keys).sealer.seal(DATA, text("pay 10.00 to bob"));
  for (let bit = 0; bit < body.length * 8; bit++) {
    const copy = body.slice();
    copy[bit >> 3] ^= 1 << (bit & 7);
    await assertRejects(() => pair(keys).opener.open(DATA, copy), ProtocolError, "bad_mac");
  }
});

Deno.test("RecordOpener.open() rejects impossible lengths as malformed before the MAC", async () => {
  const keys = await rawKeys();
  // 20 bytes: two cipher blocks, so one block less is still a possible length.
  const body = pair(keys).sealer.seal(DATA, text("twenty bytes of text"));
  for (const length of [0, 16, 63, body.length - 1, body.length + 1]) {
    const changed = new Uint8Array(length);
    changed.set(body.subarray(0, Math.min(length, body.length)));
    await assertRejects(() => pair(keys).opener.open(DATA, changed), ProtocolError, "malformed");
  }
  // Whole blocks cut off or added keep a possible length: the MAC catches those.
  await assertRejects(() => pair(keys).opener.open(DATA, body.slice(16)), ProtocolError, "bad_mac");
  const longer = concatBytes(new Uint8Array(16), body);
  await assertRejects(() => pair(keys).opener.open(DATA, longer), ProtocolError, "bad_mac");
});

Deno.test("RecordOpener.open() checks the MAC before the padding, so padding is no oracle", async () => {
  const raw = await rawKeys();
  // One block whose plaintext ends in 0x00: valid CBC, invalid PKCS#7 padding.
  const iv = crypto.getRandomValues(new Uint8Array(16));
  const fullBlock = await crypto.subtle.encrypt(
    { name: "AES-CBC", iv },
    raw.encryption,
    new Uint8Array(16),
  );
  const cipher = new Uint8Array(fullBlock).slice(0, 16);
  const macInput = concatBytes(
    new Uint8Array([Direction.ATM_TO_BANK]),
    u64ToBytes(0),
    new Uint8Array([DATA]),
    iv,
    cipher,
  );
  const mac = new HmacSha256State(raw.macBytes).sign(macInput);
  const good = concatBytes(iv, cipher, mac);
  await assertRejects(() => pair(raw).opener.open(DATA, good), ProtocolError, "malformed");
  const badMac = good.slice();
  badMac[badMac.length - 1] ^= 1;
  await assertRejects(() => pair(raw).opener.open(DATA, badMac), ProtocolError, "bad_mac");
});

Deno.test("RecordSealer and RecordOpener stop at the record limit with sequence_exhausted", async () => {
  const keys = await rawKeys();
  const { sealer, opener } = pair(keys, 2);
  const bodies = [sealer.seal(DATA, text("1")), sealer.seal(DATA, text("2"))];
  assert(sealer.exhausted, "sealer reports exhaustion");
  await assertRejects(() => sealer.seal(DATA, text("3")), ProtocolError, "sequence_exhausted");

  // A third record that would verify (sealed by a sender with a higher limit) is still refused.
  const generous = pair(keys, 3).sealer;
  for (const payload of ["1", "2"]) generous.seal(DATA, text(payload));
  const third = generous.seal(DATA, text("3"));
  for (const body of bodies) opener.open(DATA, body);
  await assertRejects(() => opener.open(DATA, third), ProtocolError, "sequence_exhausted");
});

Deno.test("recordsMaxOf() accepts 1 to RECORDS_PER_DIRECTION_MAX and nothing else", () => {
  assertEquals(recordsMaxOf(), RECORDS_PER_DIRECTION_MAX);
  assertEquals(recordsMaxOf(1), 1);
  assertEquals(recordsMaxOf(RECORDS_PER_DIRECTION_MAX), RECORDS_PER_DIRECTION_MAX);
  for (const bad of [0, -1, 1.5, RECORDS_PER_DIRECTION_MAX + 1, Number.NaN]) {
    assertThrows(() => recordsMaxOf(bad), RangeError);
  }
});

function bytesOf(text: string): Bytes {
  return new TextEncoder().encode(text);
}

Deno.test("recordBytes() is the length seal() gives, for every padding case", async () => {
  const { sealer } = pair(await rawKeys());
  for (const length of [0, 1, 15, 16, 17, 31, 32, 33, 1000]) {
    assertEquals(
      recordBytes(length),
      sealer.seal(FrameType.RECORD_DATA, new Uint8Array(length)).length,
    );
  }
});

Deno.test("RecordSealer.sealInto() seals in place, in sequence with seal()", async () => {
  const { sealer, opener } = pair(await rawKeys());
  const first = bytesOf("first, by seal()");
  const second = bytesOf("second, into the body of a larger buffer");
  const sealed = sealer.seal(FrameType.RECORD_DATA, first);
  const frame = new Uint8Array(5 + recordBytes(second.length));
  sealer.sealInto(FrameType.RECORD_DATA, second, frame.subarray(5));
  assertEquals(toHex(frame.subarray(0, 5)), "0000000000");
  assertEquals(toHex(opener.open(FrameType.RECORD_DATA, sealed)), toHex(first));
  assertEquals(toHex(opener.open(FrameType.RECORD_DATA, frame.subarray(5))), toHex(second));
});

Deno.test("RecordSealer.sealInto() refuses a body of the wrong length and counts nothing", async () => {
  const { sealer, opener } = pair(await rawKeys());
  const payload = bytesOf("payload");
  const size = recordBytes(payload.length);
  for (const wrong of [size - 1, size + 1, 0]) {
    assertThrows(
      () => sealer.sealInto(FrameType.RECORD_DATA, payload, new Uint8Array(wrong)),
      RangeError,
    );
  }
  const body = new Uint8Array(size);
  sealer.sealInto(FrameType.RECORD_DATA, payload, body);
  assertEquals(toHex(opener.open(FrameType.RECORD_DATA, body)), toHex(payload));
});
