import { deepStrictEqual, notDeepStrictEqual, rejects } from "node:assert/strict";
import { deriveBankSecrets, KeyUnwrapError, unwrapAtmKey, wrapAtmKey } from "./bank_secrets.ts";

const randomKey = () => crypto.getRandomValues(new Uint8Array(32));

Deno.test("unwrapAtmKey() returns the key wrapAtmKey() stored, which is not in the stored bytes", async () => {
  const secrets = await deriveBankSecrets(randomKey());
  const psk = randomKey();
  const wrapped = await wrapAtmKey(secrets, "atm-1", psk);
  deepStrictEqual(await unwrapAtmKey(secrets, "atm-1", wrapped), psk);
  const stored = Array.from(wrapped).join(",");
  deepStrictEqual(stored.includes(Array.from(psk).join(",")), false, "the key is not in clear");
  notDeepStrictEqual(await wrapAtmKey(secrets, "atm-1", psk), wrapped, "a fresh nonce each time");
});

Deno.test("unwrapAtmKey() refuses a key wrapped under another bank key, moved to another ATM id, or altered", async () => {
  const secrets = await deriveBankSecrets(randomKey());
  const wrapped = await wrapAtmKey(secrets, "atm-1", randomKey());
  const otherBank = await deriveBankSecrets(randomKey());
  await rejects(unwrapAtmKey(otherBank, "atm-1", wrapped), KeyUnwrapError);
  await rejects(unwrapAtmKey(secrets, "atm-2", wrapped), KeyUnwrapError);
  for (const at of [0, 12, wrapped.length - 1]) {
    const altered = wrapped.slice();
    altered[at] ^= 1;
    await rejects(unwrapAtmKey(secrets, "atm-1", altered), KeyUnwrapError, `byte ${at} flipped`);
  }
});
