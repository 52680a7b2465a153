import { assert, assertEquals, assertRejects } from "./_test_assert.ts";
import {
  readSecretFile,
  SECRET_FILE_BYTES_MAX,
  SecretFileError,
  writeSecretFile,
} from "./secret_file.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "secret_file_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("writeSecretFile() creates the file with mode 0600 and readSecretFile() reads it", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/key`;
    const secret = crypto.getRandomValues(new Uint8Array(32));
    await writeSecretFile(path, secret);
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    assertEquals(Array.from(await readSecretFile(path)), Array.from(secret));
  });
});

Deno.test("writeSecretFile() makes the mode 0600 even with a permissive umask", async () => {
  await withTempDir(async (dir) => {
    const previous = Deno.umask(0);
    try {
      await writeSecretFile(`${dir}/key`, new Uint8Array([1]));
    } finally {
      Deno.umask(previous);
    }
    assertEquals((await Deno.stat(`${dir}/key`)).mode! & 0o777, 0o600);
  });
});

Deno.test("writeSecretFile() refuses to overwrite and leaves the old contents", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/key`;
    await writeSecretFile(path, new Uint8Array([1, 2, 3]));
    await assertRejects(writeSecretFile(path, new Uint8Array([9])), SecretFileError, "exists");
    assertEquals(Array.from(await readSecretFile(path)), [1, 2, 3]);
  });
});

Deno.test("readSecretFile() refuses 0644, 0640 and 0604 files and names the fix", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/key`;
    await writeSecretFile(path, new Uint8Array([7]));
    for (const mode of [0o644, 0o640, 0o604, 0o601]) {
      await Deno.chmod(path, mode);
      const error = await assertRejects(
        readSecretFile(path),
        SecretFileError,
        "insecure_permissions",
      );
      assert(error.message.includes(`0${mode.toString(8)}`), error.message);
      assert(error.message.includes("chmod 600"), error.message);
    }
    await Deno.chmod(path, 0o400);
    assertEquals(Array.from(await readSecretFile(path)), [7]);
  });
});

Deno.test("readSecretFile() reports a missing file, a directory and an oversize file", async () => {
  await withTempDir(async (dir) => {
    await assertRejects(readSecretFile(`${dir}/none`), SecretFileError, "missing");
    await Deno.mkdir(`${dir}/sub`, { mode: 0o700 });
    await assertRejects(readSecretFile(`${dir}/sub`), SecretFileError, "malformed");
    await Deno.writeFile(`${dir}/big`, new Uint8Array(SECRET_FILE_BYTES_MAX + 1), { mode: 0o600 });
    await assertRejects(readSecretFile(`${dir}/big`), SecretFileError, "malformed");
  });
});

Deno.test("writeSecretFile() reports a missing directory as unreadable", async () => {
  await withTempDir(async (dir) => {
    await assertRejects(
      writeSecretFile(`${dir}/no/key`, new Uint8Array(1)),
      SecretFileError,
      "unreadable",
    );
  });
});
