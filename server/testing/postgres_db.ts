/**
 * Test support: a throw-away database on the local PostgreSQL (127.0.0.1:5432, trust auth) for
 * tests that run real bank processes on a shared ledger. Each database gets a random name
 * `bank_test_<hex>` and is dropped afterwards; no other database is touched. Without a reachable
 * server the tests register as ignored with a printed notice, unless CI is set: then they fail.
 *
 * @module
 */

import postgres from "postgres";

/** Users tried, in order, for creating and dropping test databases. */
const ADMIN_USERS = ["postgres", "root"];

/** The database an admin connection uses while it creates or drops others. */
const ADMIN_DATABASE = "test";

/** Where the local PostgreSQL listens. */
export const POSTGRES_SERVER = "127.0.0.1:5432";

/** Whether PostgreSQL is usable, and if not, why. */
export interface PostgresProbe {
  /** URL of a user that may create databases, on the admin database. */
  adminUrl?: string;
  /** Why each user failed, when none could be used. */
  failure: string;
  /** True when CI is set, so a missing PostgreSQL must fail instead of skipping. */
  required: boolean;
}

/**
 * Finds a user that can create databases.
 *
 * @returns The probe; `adminUrl` is absent when no user works.
 */
export async function probePostgres(): Promise<PostgresProbe> {
  const required = !["", "0", "false"].includes(Deno.env.get("CI") ?? "");
  const reasons: string[] = [];
  for (const user of ADMIN_USERS) {
    const url = `postgres://${user}@${POSTGRES_SERVER}/${ADMIN_DATABASE}`;
    const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      const [row] = await sql`SELECT rolcreatedb OR rolsuper AS can FROM pg_roles
        WHERE rolname = current_user`;
      if (row?.can) return { adminUrl: url, failure: "", required };
      reasons.push(`${user}: may not create databases`);
    } catch (error) {
      const code = (error as { code?: unknown })?.code;
      reasons.push(`${user}: ${typeof code === "string" ? code : "connection failed"}`);
    } finally {
      await sql.end({ timeout: 0 });
    }
  }
  return { failure: reasons.join(", "), required };
}

/**
 * Registers what a test file does when PostgreSQL is missing: a failing test under CI, else a
 * printed notice (the file's own tests register as ignored).
 *
 * @param probe The probe.
 * @param file The test file's name, for the notice.
 */
export function reportMissingPostgres(probe: PostgresProbe, file: string): void {
  if (probe.adminUrl) return;
  const reason = `no usable PostgreSQL at ${POSTGRES_SERVER}/${ADMIN_DATABASE} (${probe.failure})`;
  if (probe.required) {
    Deno.test(`${file}: PostgreSQL is reachable (required because CI is set)`, () => {
      throw new Error(reason);
    });
  } else {
    console.log(`${file}: SKIPPING its PostgreSQL tests, ${reason}; set CI=1 to fail instead`);
  }
}

/** A database made for one test. */
export interface TestDatabase {
  url: string;
  /** Drops it, closing any connection still open (FORCE). */
  drop(): Promise<void>;
  /** Drops it without FORCE: fails while any session is still connected to it. */
  dropStrict(): Promise<void>;
}

/**
 * Creates an empty database with a random name.
 *
 * @param adminUrl The probe's admin URL.
 * @returns Its URL and how to drop it.
 */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `bank_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await adminExec(adminUrl, `CREATE DATABASE ${name}`);
  return {
    url: adminUrl.replace(new RegExp(`/${ADMIN_DATABASE}$`), `/${name}`),
    drop: () => adminExec(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    dropStrict: () => adminExec(adminUrl, `DROP DATABASE ${name}`),
  };
}

async function adminExec(adminUrl: string, text: string): Promise<void> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(text);
  } finally {
    await admin.end();
  }
}
