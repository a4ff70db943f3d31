/** A throwaway database for the AI benches (no Temporal needed): created and migrated, dropped at the end. */
import postgres from "postgres";
import { connect, type Sql } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";

const URL_ = process.env.BENCH_AI_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/weft_bench_ai";

async function dropDatabase() {
  const admin = postgres(URL_.replace(/\/[^/]+$/, "/postgres"), { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS "${new URL(URL_).pathname.slice(1)}" WITH (FORCE)`);
  await admin.end();
}

export async function benchDatabase(): Promise<{ sql: Sql; close: () => Promise<void> }> {
  await dropDatabase();
  await migrate(URL_);
  const sql = connect(URL_, { max: 4 });
  return {
    sql,
    close: async () => {
      await sql.end();
      await dropDatabase();
    },
  };
}

/** A user who owns what the bench creates. */
export async function benchUser(sql: Sql): Promise<string> {
  const [user] = await sql`INSERT INTO users (email, password_hash) VALUES (${`bench-${Date.now()}@x.test`}, 'x')
    RETURNING id`;
  return user.id as string;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
