/** `migrate-cli.ts [DATABASE_URL]`: creates the database if needed and applies pending migrations. */
import process from "node:process";
import { migrate } from "./migrate.ts";

const url = process.argv[2] ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/weft";
const applied = await migrate(url, (m) => console.log(m));
console.log(applied.length ? `database ready (${applied.length} migration(s) applied)` : "database up to date");
