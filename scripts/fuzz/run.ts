/**
 * The fuzz stage: Schemathesis against a real API (Deno) with a real worker and Temporal dev server, as an
 * authenticated user that owns a valid graph and a finished run, so the run endpoints are reached with real ids.
 * Fails on any 5xx (Schemathesis's not_a_server_error check) or on a request that gets no answer. Started by
 * scripts/fuzz.sh, which picks the stack's own Temporal port and database (WEFT_TEST_TEMPORAL_PORT,
 * TEST_DATABASE_URL) before test/env.ts reads them.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { setup, teardown } from "../../test/global-setup.ts";
import { TEST_TASK_QUEUE } from "../../test/env.ts";
import { startDenoApi } from "../../test/processes.ts";
import { ApiClient, freePort } from "../../test/stack.ts";
import { verdict } from "./verdict.ts";

/** Schemathesis's time budget and the hard stop around it (the stage must fit in 3 minutes with start-up). */
const FUZZ_SECONDS = Number(process.env.WEFT_FUZZ_SECONDS ?? 75);
const REPORT_DIR = resolve(".state/fuzz-report");
/** Schemathesis keeps a crash cache (.schemathesis/) in its working folder: this one, not the repository's root. */
const WORK_DIR = resolve(".state/fuzz-work");

async function seed(api: ApiClient) {
  await api.login("fuzz");
  const wf = await api.request("POST", "/api/workflows", { name: "fuzz graph", on_failure: "continue" });
  const node = (name: string, expression: string) =>
    api.request("POST", `/api/workflows/${wf.body.id}/nodes`, { name, type: "transform", config: { expression } });
  const a = await node("first", '{"n": 1, "input": input}');
  const b = await node("second", "nodes.first.output.n + 1");
  await api.request("POST", `/api/workflows/${wf.body.id}/edges`, {
    source_node_id: a.body.id,
    target_node_id: b.body.id,
  });
  await api.request("POST", "/api/secrets", { name: "FUZZ_TOKEN", value: "fuzz-secret-value" });
  const hook = await api.request("POST", `/api/workflows/${wf.body.id}/hook`, {});
  if (hook.status !== 201) throw new Error(`hook: ${hook.status} ${JSON.stringify(hook.body)}`);
  const run = await api.execute(wf.body.id, { city: "paris" });
  if (run.status !== 202) throw new Error(`execute: ${run.status} ${JSON.stringify(run.body)}`);
  const done = await api.waitForFinal(wf.body.id, run.body.run_id, 60_000);
  if (done.status !== "succeeded") throw new Error(`seed run ${done.status}: ${JSON.stringify(done)}`);
  return {
    workflowId: wf.body.id as string,
    runId: run.body.run_id as string,
    hookToken: String(hook.body.url_path).split("/").pop()!,
  };
}

function schemathesis(base: string, token: string, ids: Awaited<ReturnType<typeof seed>>): Promise<number> {
  const args = [
    "--config-file",
    resolve("scripts/fuzz/schemathesis.toml"),
    "run",
    `${base}/openapi.json`,
    "--header",
    `Authorization: Bearer ${token}`,
    "--checks",
    "not_a_server_error",
    "--max-time",
    String(FUZZ_SECONDS),
    "--workers",
    "2",
    "--request-timeout",
    "20",
    "--generation-database",
    "none",
    "--report",
    "junit",
    "--report-dir",
    REPORT_DIR,
  ];
  mkdirSync(WORK_DIR, { recursive: true });
  const proc = spawn(resolve(".state/fuzz-venv/bin/schemathesis"), args, {
    stdio: "inherit",
    cwd: WORK_DIR,
    env: {
      ...process.env,
      WEFT_FUZZ_WORKFLOW_ID: ids.workflowId,
      WEFT_FUZZ_RUN_ID: ids.runId,
      WEFT_FUZZ_HOOK_TOKEN: ids.hookToken,
    },
  });
  const hardStop = setTimeout(() => proc.kill("SIGKILL"), (FUZZ_SECONDS + 40) * 1000);
  return new Promise((done) =>
    proc.once("exit", (code, signal) => {
      clearTimeout(hardStop);
      done(signal ? 1 : code ?? 1);
    })
  );
}

let rc = 1;
rmSync(REPORT_DIR, { recursive: true, force: true });
await setup();
const port = await freePort();
const api = await startDenoApi(port, TEST_TASK_QUEUE, { LOG_REQUESTS: "false" })
  .catch(async (err) => {
    await teardown();
    throw err;
  });
try {
  const base = `http://127.0.0.1:${port}`;
  const client = new ApiClient(base);
  const ids = await seed(client);
  console.log(`fuzz: ${base} as a user with workflow ${ids.workflowId}, run ${ids.runId}`);
  const exitCode = await schemathesis(base, client.token, ids);
  const files = existsSync(REPORT_DIR) ? readdirSync(REPORT_DIR).filter((f) => f.endsWith(".xml")) : [];
  const result = files.length
    ? verdict(readFileSync(`${REPORT_DIR}/${files[0]}`, "utf8"))
    : { ok: false, lines: [`schemathesis exited ${exitCode} without a report`] };
  // Every 500 the API answered is logged with its request id and stack: they say where to look.
  const unhandled = api.output().split("\n").filter((l) => l.includes('"msg":"unhandled error"'));
  if (unhandled.length) result.lines.push(`fuzz: the API logged ${unhandled.length} unhandled errors:`, ...unhandled);
  console.log(result.lines.join("\n"));
  rc = result.ok && !unhandled.length ? 0 : 1;
  console.log(rc === 0 ? "fuzz: passed (no 5xx)" : "fuzz: FAILED");
} finally {
  await api.stop();
  await teardown();
}
process.exit(rc);
