/**
 * Test support: a small tmpfs mounted for one test, to give the bank a real full disk (ENOSPC)
 * or a real read-only file system (EROFS). Mounting needs root (or CAP_SYS_ADMIN); where it is
 * not allowed, {@link canMountTmpfs} says so and the tests that need it are skipped by name.
 *
 * @module
 */

/** A mounted tmpfs. */
export interface Tmpfs {
  /** Where it is mounted. */
  path: string;
  /** Remounts it read-only (true) or read-write (false). */
  setReadOnly(readOnly: boolean): Promise<void>;
  /** Fills it to the last byte with a file, and returns a function that deletes that file. */
  fill(): Promise<() => Promise<void>>;
  /** Unmounts it and removes the mount point. */
  unmount(): Promise<void>;
}

async function run(command: string, args: string[]): Promise<{ ok: boolean; text: string }> {
  try {
    const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder().decode(output.stderr).trim();
    return { ok: output.success, text };
  } catch (error) {
    return { ok: false, text: String(error) };
  }
}

/**
 * Mounts a tmpfs of `sizeBytes` on a new temporary directory.
 *
 * @param sizeBytes Its capacity.
 * @returns The mount.
 * @throws {Error} When mount fails (not root, no mount command, a container that forbids it).
 */
export async function mountTmpfs(sizeBytes: number): Promise<Tmpfs> {
  const path = await Deno.makeTempDir({ prefix: "tmpfs-" });
  const mounted = await run("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes}`, "tmpfs", path]);
  if (!mounted.ok) {
    await Deno.remove(path);
    throw new Error(`mount -t tmpfs failed: ${mounted.text}`);
  }
  return {
    path,
    async setReadOnly(readOnly) {
      const result = await run("mount", ["-o", `remount,${readOnly ? "ro" : "rw"}`, path]);
      if (!result.ok) throw new Error(`remount failed: ${result.text}`);
    },
    async fill() {
      const filler = `${path}/filler`;
      const file = await Deno.open(filler, { write: true, create: true });
      const chunk = new Uint8Array(64 * 1024);
      try {
        // Smaller and smaller writes, so that not even one byte is left over.
        for (let size = chunk.length; size >= 1; size = Math.floor(size / 2)) {
          while (true) {
            try {
              await file.write(chunk.subarray(0, size));
            } catch {
              break;
            }
          }
        }
      } finally {
        file.close();
      }
      return () => Deno.remove(filler);
    },
    async unmount() {
      await run("umount", ["-l", path]);
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Tries a mount once, to decide whether the tests that need one can run here.
 *
 * @returns Null when mounting works, else the reason it does not.
 */
export async function canMountTmpfs(): Promise<string | null> {
  try {
    const tmpfs = await mountTmpfs(1024 * 1024);
    await tmpfs.unmount();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
