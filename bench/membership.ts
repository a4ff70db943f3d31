/**
 * bench/membership: what the membership check adds to a request (api/workspaces/access.ts): a person's role in
 * the request's workspace from the access cache (the common case), and from PostgreSQL (the first request after
 * an access change clears the cache), plus an API key's lookup by SHA-256. Prints p50 and p99 in microseconds.
 * Usage: node --import tsx bench/membership.ts [lookups=20000]
 */
import { hashApiKey, newApiKey } from "../api/auth/api-keys.ts";
import { AccessCache } from "../api/workspaces/access-cache.ts";
import { createLogger } from "../api/logger.ts";
import { connect } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";
import { BENCH_DATABASE_URL } from "./stack.ts";

const lookups = Number(process.argv[2] ?? 20_000);
await migrate(BENCH_DATABASE_URL);
const sql = connect(BENCH_DATABASE_URL, { max: 2 });
const [user] =
  await sql`INSERT INTO users (email, password_hash) VALUES (${`m-${Date.now()}@bench`}, 'x') RETURNING id`;
const { key, prefix, hash } = await newApiKey();
await sql`INSERT INTO api_keys (workspace_id, name, role, prefix, key_hash) VALUES (${user.id}, 'bench', 'viewer',
  ${prefix}, ${hash})`;
const cache = new AccessCache();
await cache.listen(sql, createLogger({ bench: true }, "warn"));

const micros = async (n: number, op: () => Promise<unknown>) => {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op();
    times.push((performance.now() - t0) * 1000);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => Math.round(times[Math.floor(q * (times.length - 1))] * 10) / 10;
  return { p50_us: at(0.5), p99_us: at(0.99) };
};

const result = {
  when: new Date().toISOString(),
  role_cached: await micros(lookups, () => cache.role(sql, user.id, user.id)),
  role_from_postgres: await micros(Math.min(lookups, 2000), () => {
    cache.clear();
    return cache.role(sql, user.id, user.id);
  }),
  api_key_sha256_and_cached_lookup: await micros(lookups, async () => cache.apiKey(sql, await hashApiKey(key))),
};
console.log(JSON.stringify(result, null, 2));
await sql.end();
