/**
 * The sandbox database `db_write` nodes write to by default: a separate database owned by a role that
 * cannot reach Weft's own tables. Created idempotently by setup (db/migrate-cli.ts) and the test stack.
 */
import postgres from "postgres";

export const SANDBOX_ROLE = "weft_sandbox";

/** postgres://weft_sandbox@host:port/<db>_sandbox for a Weft database URL. */
export function sandboxUrlFor(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.username = SANDBOX_ROLE;
  url.password = "";
  url.pathname = `${url.pathname.replace(/\/$/, "")}_sandbox`;
  return url.toString();
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const quoteLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`;

export async function ensureSandbox(databaseUrl: string, sandboxUrl = sandboxUrlFor(databaseUrl)): Promise<void> {
  const target = new URL(sandboxUrl);
  const role = decodeURIComponent(target.username);
  const password = decodeURIComponent(target.password);
  const sandboxDb = decodeURIComponent(target.pathname.slice(1));
  const weftDb = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const admin = new URL(databaseUrl);
  admin.pathname = "/postgres";
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} });
  try {
    await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(7723002)`;
      const [exists] = await tx`SELECT 1 FROM pg_roles WHERE rolname = ${role}`;
      const pw = password ? ` PASSWORD ${quoteLiteral(password)}` : "";
      if (!exists) {
        await tx.unsafe(`CREATE ROLE ${quoteIdent(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE${pw}`);
      }
    });
    const [db] = await sql`SELECT 1 FROM pg_database WHERE datname = ${sandboxDb}`;
    if (!db) {
      await sql.unsafe(`CREATE DATABASE ${quoteIdent(sandboxDb)} OWNER ${quoteIdent(role)}`).catch((err) => {
        if (err.code !== "42P04") throw err; // created meanwhile by another process
      });
    }
    // The sandbox role may not even connect to Weft's own database.
    await sql.unsafe(`REVOKE CONNECT ON DATABASE ${quoteIdent(weftDb)} FROM PUBLIC`);
    await sql.unsafe(`REVOKE ALL ON DATABASE ${quoteIdent(weftDb)} FROM ${quoteIdent(role)}`);
  } finally {
    await sql.end();
  }
}
