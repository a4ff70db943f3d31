/** `migrate-cli.ts [DATABASE_URL]`: creates the database if needed and applies pending migrations. */
import process from "node:process";
import { z } from "zod";
import { databaseEnv, parseEnv } from "../core/env.ts";
import { migrate } from "./migrate.ts";
import { ensureSandbox, sandboxEnv } from "./sandbox.ts";

const env = parseEnv(z.object({ ...databaseEnv, ...sandboxEnv }), process.env, "migration");
const url = process.argv[2] ?? env.DATABASE_URL;
const applied = await migrate(url, (m) => console.log(m));
console.log(applied.length ? `database ready (${applied.length} migration(s) applied)` : "database up to date");
await ensureSandbox(url, env.WEFT_SANDBOX_DATABASE_URL);
console.log("sandbox database for db_write nodes ready");
