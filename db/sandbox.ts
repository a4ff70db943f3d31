/**
 * The sandbox database `db_write` nodes write to by default. Each tenant gets its own schema and its own
 * login role there (no superuser, no createrole, no createdb, CONNECT on the sandbox database only), so one
 * tenant's SQL cannot see or change another's tables or ledger rows. Weft's own role (the admin URL)
 * creates them; it never runs a user's statement. The database is created idempotently by setup
 * (db/migrate-cli.ts) and the test stack; tenants are provisioned on first use (provisionTenant).
 */
import { createHash, createHmac } from "node:crypto";
import postgres from "postgres";
import { z } from "zod";

export const sandboxEnv = {
  /** The sandbox database, as a role that may create the tenants' roles; by default derived (sandboxUrlFor). */
  WEFT_SANDBOX_DATABASE_URL: z.preprocess((v) => v || undefined, z.string().url().optional()),
};

/** postgres://<Weft's role>@host:port/<db>_sandbox for a Weft database URL: the sandbox's admin URL. */
export function sandboxUrlFor(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `${url.pathname.replace(/\/$/, "")}_sandbox`;
  return url.toString();
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const quoteLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`;
const dbName = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1));

/** Role names are server-wide: a prefix per sandbox database keeps two Weft deployments on one server apart. */
export const tenantRolePrefix = (sandboxDb: string) =>
  `wt_${createHash("sha256").update(sandboxDb).digest("hex").slice(0, 8)}_`;

/** The tenant's login role, which is also the name of its schema. */
export const tenantRole = (sandboxDb: string, tenantId: string) =>
  `${tenantRolePrefix(sandboxDb)}${tenantId.toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, 40)}`;

/** Derived, never stored: only a worker holding the master key can log in as a tenant. */
export const tenantPassword = (masterKey: string, sandboxDb: string, tenantId: string) =>
  createHmac("sha256", masterKey).update(`weft-sandbox:${sandboxDb}:${tenantId}`).digest("base64url");

export async function ensureSandbox(databaseUrl: string, sandboxUrl = sandboxUrlFor(databaseUrl)): Promise<void> {
  const sandboxDb = dbName(sandboxUrl);
  const weftDb = dbName(databaseUrl);
  const admin = new URL(sandboxUrl);
  admin.pathname = "/postgres";
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} });
  try {
    const [db] = await sql`SELECT 1 FROM pg_database WHERE datname = ${sandboxDb}`;
    if (!db) {
      await sql.unsafe(`CREATE DATABASE ${quoteIdent(sandboxDb)}`).catch((err) => {
        if (err.code !== "42P04") throw err; // created meanwhile by another process
      });
    }
    // Weft's role owns it (an older sandbox was owned by a role user SQL ran as); tenants get CONNECT one by one.
    await sql.unsafe(`ALTER DATABASE ${quoteIdent(sandboxDb)} OWNER TO CURRENT_USER`);
    await sql.unsafe(`REVOKE ALL ON DATABASE ${quoteIdent(sandboxDb)} FROM PUBLIC`);
    // No tenant role may even connect to Weft's own database.
    await sql.unsafe(`REVOKE CONNECT ON DATABASE ${quoteIdent(weftDb)} FROM PUBLIC`);
  } finally {
    await sql.end();
  }
  const inSandbox = postgres(sandboxUrl, { max: 1, onnotice: () => {} });
  try {
    // Nothing shared between tenants: the public schema is closed to them.
    await inSandbox.unsafe("REVOKE ALL ON SCHEMA public FROM PUBLIC");
  } finally {
    await inSandbox.end();
  }
}

/**
 * Creates or repairs a tenant's role, schema and ledger, idempotently: concurrent first uses serialise on an
 * advisory lock. The schema belongs to Weft's role (a tenant may create tables in it, not drop the
 * schema or the ledger); the ledger is insert-and-read only for the tenant.
 */
export async function provisionTenant(admin: postgres.Sql, role: string, password: string): Promise<void> {
  const r = quoteIdent(role);
  await admin.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtextextended(${role}, 7724))`;
    const [exists] = await tx`SELECT 1 FROM pg_roles WHERE rolname = ${role}`;
    if (!exists) await tx.unsafe(`CREATE ROLE ${r}`);
    // Every time, not only at creation: a tenant may change its own password (PostgreSQL lets any role).
    await tx.unsafe(
      `ALTER ROLE ${r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT ` +
        `CONNECTION LIMIT 32 PASSWORD ${quoteLiteral(password)}`,
    );
    const [{ db }] = await tx`SELECT current_database() AS db`;
    await tx.unsafe(`GRANT CONNECT ON DATABASE ${quoteIdent(db as string)} TO ${r}`);
    await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${r}`);
    await tx.unsafe(`GRANT USAGE, CREATE ON SCHEMA ${r} TO ${r}`);
    await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${r}.weft_execution_ledger (
      key text PRIMARY KEY, output jsonb NOT NULL, committed_at timestamptz NOT NULL DEFAULT now())`);
    await tx.unsafe(`GRANT SELECT, INSERT ON ${r}.weft_execution_ledger TO ${r}`);
  });
}

/** Drops the tenant roles of a sandbox database that was dropped (the test stack recreates its own). */
export async function dropTenantRoles(adminUrl: string, sandboxDb: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const roles = await sql`SELECT rolname FROM pg_roles WHERE starts_with(rolname, ${tenantRolePrefix(sandboxDb)})`;
    for (const { rolname } of roles) {
      await sql.unsafe(`DROP ROLE IF EXISTS ${quoteIdent(rolname as string)}`).catch(() => {});
    }
  } finally {
    await sql.end();
  }
}
