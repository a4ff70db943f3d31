/** Brings up the real test stack once: Temporal dev server, a fresh database, the workflow bundle, a worker. */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import postgres from "postgres";
import { migrate } from "../db/migrate.ts";
import { dropTenantRoles, ensureSandbox, sandboxUrlFor } from "../db/sandbox.ts";
import { buildWorkflowBundle } from "../worker/bundle.ts";
import { TEST_BUNDLE_PATH, TEST_DATABASE_URL, TEST_TASK_QUEUE, TEST_TEMPORAL_PORT } from "./env.ts";
import { type Spawned, startWorker } from "./processes.ts";

/** Drops the databases (connecting as the Weft URL's user), then migrates the first one afresh. */
async function recreateDatabases(url: string, ...others: string[]) {
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} });
  for (const u of [url, ...others]) {
    await sql.unsafe(`DROP DATABASE IF EXISTS "${new URL(u).pathname.slice(1)}" WITH (FORCE)`);
  }
  await sql.end();
  await migrate(url);
}

let worker: Spawned | undefined;
let startedTemporal = false;

export async function setup() {
  // An in-memory, headless dev server of its own, so tests never touch the stack `scripts/run.sh` started.
  const said = execFileSync("bash", ["scripts/temporal-dev.sh", String(TEST_TEMPORAL_PORT), "", ""]).toString();
  process.stdout.write(said);
  startedTemporal = said.includes("dev server ready");
  await recreateDatabases(TEST_DATABASE_URL, sandboxUrlFor(TEST_DATABASE_URL));
  // The tenants' roles outlive the dropped sandbox (roles are server-wide); only this stack's are dropped.
  await dropTenantRoles(TEST_DATABASE_URL, new URL(sandboxUrlFor(TEST_DATABASE_URL)).pathname.slice(1));
  await ensureSandbox(TEST_DATABASE_URL);
  writeFileSync(TEST_BUNDLE_PATH, await buildWorkflowBundle());
  worker = await startWorker(TEST_TASK_QUEUE);
}

export async function teardown() {
  await worker?.stop();
  if (startedTemporal) {
    const pid = Number(readFileSync(`.state/temporal/server-${TEST_TEMPORAL_PORT}.pid`, "utf8"));
    try {
      process.kill(pid, "SIGTERM");
    } catch { /* already gone */ }
  }
}
