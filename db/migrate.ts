/** A small migration runner over the plain SQL files in db/migrations, applied in name order, once each. */
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { connect } from "./client.ts";

const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations/", import.meta.url));

/** Creates the database named in the URL when it is missing (connecting to `postgres` to do so). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`SELECT 1 AS found FROM pg_database WHERE datname = ${name}`;
    if (!row) await sql.unsafe(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } catch (err) {
    // Two processes may race to create it; the loser sees "already exists".
    if ((err as { code?: string }).code !== "42P04") throw err;
  } finally {
    await sql.end();
  }
}

/** Applies every migration not yet applied (with `before`, only those whose file name sorts before it). */
export async function migrate(
  url: string,
  log: (msg: string) => void = () => {},
  options: { before?: string } = {},
): Promise<string[]> {
  await ensureDatabase(url);
  const sql = connect(url, { max: 1 });
  const applied: string[] = [];
  try {
    await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(7723001)`;
      await tx`CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`;
      const done = new Set((await tx`SELECT name FROM schema_migrations`).map((r) => r.name as string));
      const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith(".sql")).sort();
      for (const file of files) {
        if (done.has(file)) continue;
        if (options.before !== undefined && file >= options.before) break;
        await tx.unsafe(await readFile(MIGRATIONS_DIR + file, "utf8"));
        await tx`INSERT INTO schema_migrations (name) VALUES (${file})`;
        applied.push(file);
        log(`applied migration ${file}`);
      }
    });
  } finally {
    await sql.end();
  }
  return applied;
}
