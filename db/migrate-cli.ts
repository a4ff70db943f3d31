/** `migrate-cli.ts [DATABASE_URL]`: creates the database if needed and applies pending migrations. */
import process from "node:process";
import { migrate } from "./migrate.ts";
import { ensureSandbox } from "./sandbox.ts";

const url = process.argv[2] ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/weft";
const applied = await migrate(url, (m) => console.log(m));
console.log(applied.length ? `database ready (${applied.length} migration(s) applied)` : "database up to date");
await ensureSandbox(url, process.env.WEFT_SANDBOX_DATABASE_URL);
console.log("sandbox database for db_write nodes ready");
