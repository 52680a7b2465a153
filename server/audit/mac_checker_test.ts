import assert from "node:assert/strict";
import { nextEpochSecret } from "./audit_keys.ts";
import { ForwardKeyring } from "./keyring.ts";
import { KeyringMacChecker, MAC_VERDICT, type MacJob } from "./mac_checker.ts";

/** Jobs over several epochs, signed with a keyring of the same root, one of them forged. */
async function jobsOverEpochs(root: Uint8Array<ArrayBuffer>): Promise<MacJob[]> {
  const signer = new ForwardKeyring(root, 0);
  const jobs: MacJob[] = [];
  for (let epoch = 0; epoch < 6; epoch++) {
    const mac = (await signer.chainMac(epoch))!;
    for (let n = 0; n < 3; n++) {
      const input = crypto.getRandomValues(new Uint8Array(100));
      jobs.push({ epoch, input, tag: mac.sign(input) });
    }
  }
  signer.erase();
  jobs[7] = { ...jobs[7], tag: jobs[8].tag };
  return jobs;
}

Deno.test("KeyringMacChecker answers checks asked for at once as if asked one after another", async () => {
  const root = crypto.getRandomValues(new Uint8Array(32));
  const jobs = await jobsOverEpochs(root);
  const expected = jobs.map((_, i) => i === 7 ? MAC_VERDICT.bad : MAC_VERDICT.good);
  const checker = new KeyringMacChecker(new ForwardKeyring(root, 0), true);
  try {
    // each check walks the keyring's epochs forward; interleaved, they would step it twice
    const answers = await Promise.all([checker.check(jobs), checker.check(jobs.slice(3))]);
    assert.deepEqual([...answers[0]], expected);
    assert.deepEqual([...answers[1]], expected.slice(3));
  } finally {
    checker.close();
  }
});

Deno.test("KeyringMacChecker says noKey for epochs before its keyring's first", async () => {
  const root = crypto.getRandomValues(new Uint8Array(32));
  const jobs = (await jobsOverEpochs(root)).filter((_, i) => i !== 7);
  // a reader holding the server's epoch-2 secret: earlier epochs are out of reach
  const secret2 = await nextEpochSecret(await nextEpochSecret(root));
  const checker = new KeyringMacChecker(new ForwardKeyring(secret2, 2), true);
  try {
    const verdicts = await checker.check(jobs);
    assert.deepEqual(
      [...verdicts],
      jobs.map((job) => job.epoch < 2 ? MAC_VERDICT.noKey : MAC_VERDICT.good),
    );
  } finally {
    checker.close();
  }
});
