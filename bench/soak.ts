/**
 * bench/soak: sustained load with the resident memory (VmRSS) of every process sampled, to find leaks.
 * A stack of its own (test/global-setup: Temporal dev server, database + sandbox; then the Deno API and a real
 * worker/main.ts on the queue `weft-soak`) runs a 3-node chain — http_request to a local server → transform →
 * db_write to the tenant's sandbox — driven through the API by `clients` loops for `minutes`, then idles for
 * `idle` minutes. At the same time, as the baseline, a raw Temporal worker (bench/engine-worker.ts, no Weft
 * bookkeeping) runs rawChain(3) — three bare HTTP activities — started straight through Temporal by one loop.
 * Prints one table: RSS per process at start, after warm-up, at the end of load and after idle, and the growth
 * per 1,000 runs (least-squares fit of RSS against runs done, after warm-up).
 *
 *   WEFT_TEST_TEMPORAL_PORT=12300 TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/weft_test_soak \
 *     node --import tsx bench/soak.ts [minutes=10] [clients=8] [idle minutes=2] [sample seconds=5]
 */
import { Client, Connection } from "@temporalio/client";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { setup, teardown } from "../test/global-setup.ts";
import { TEST_DATABASE_URL, TEST_TEMPORAL_ADDRESS, TEST_TEMPORAL_PORT } from "../test/env.ts";
import { startDenoApi, startWorker } from "../test/processes.ts";
import { WeftApi } from "./engine-api.ts";
import { type rawChain, rawTaskQueue } from "./engine-workflows.ts";
import { freePort, spawnLogged, waitForLog } from "./stack.ts";

const [minutes, clients, idleMinutes, sampleS] = [10, 8, 2, 5].map((d, i) => Number(process.argv[2 + i] ?? d));
const QUEUE = "weft-soak";
const RAW_QUEUE = "weft-soak-raw";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** VmRSS in MiB of one pid (0 once it exited). */
function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}
/** The expression pool's evaluators: children of the worker running evaluator.mjs (tsx's esbuild is one too). */
function evaluatorsOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = readFileSync(`/proc/${name}/stat`, "utf8");
      if (Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[1]) !== pid) continue;
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes("evaluator")) out.push(Number(name));
    } catch { /* exited */ }
  }
  return out;
}

await setup();
const http = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end('{"ok":true,"city":"tokyo","temp_c":21.5}');
});
const started: { stop: () => Promise<void> | void }[] = [];
/** Everything this bench started, stopped whether it got through or not. */
const stopAll = async () => {
  for (const p of started.reverse()) await p.stop();
  http.close();
  await teardown();
};
const up = await (async () => {
  try {
    const httpPort = await freePort();
    await new Promise<void>((r) => http.listen(httpPort, "127.0.0.1", r));
    const apiPort = await freePort();
    const api = await startDenoApi(apiPort, QUEUE, { LOG_REQUESTS: "false" });
    started.push(api);
    const worker = await startWorker(QUEUE);
    started.push(worker);
    mkdirSync(".state/logs", { recursive: true });
    const rawLog = `.state/logs/bench-soak-raw-worker-${TEST_TEMPORAL_PORT}.log`;
    const rawWorker = await spawnLogged("node", ["--import", "tsx", "bench/engine-worker.ts"], {
      DATABASE_URL: TEST_DATABASE_URL,
      TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
      WEFT_TASK_QUEUE: RAW_QUEUE,
      WEFT_EGRESS_ALLOW: "127.0.0.1",
      WORKER_METRICS_PORT: String(20_000 + Math.floor(Math.random() * 20_000)), // parsed, not served
    }, rawLog);
    started.push({ stop: () => void rawWorker.kill("SIGTERM") });
    await waitForLog(rawLog, /worker started/, 120_000);
    const connection = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
    started.push({ stop: () => connection.close() });
    return { url: `http://127.0.0.1:${httpPort}/weather`, apiPort, api, worker, rawWorker, connection };
  } catch (err) {
    await stopAll();
    throw err;
  }
})();
const { url, apiPort, api, worker, rawWorker } = up;
const temporal = new Client({ connection: up.connection });

const pids = {
  api: api.proc.pid!,
  worker: worker.proc.pid!,
  temporal: Number(readFileSync(`.state/temporal/server-${TEST_TEMPORAL_PORT}.pid`, "utf8")),
  raw_worker: rawWorker.pid!,
};
interface Sample {
  t: number;
  weftRuns: number;
  rawRuns: number;
  rss: Record<string, number>;
  evaluators: number;
}
const samples: Sample[] = [];
const counts = { weft: 0, weftFailed: 0, raw: 0, rawFailed: 0, lastError: "" };
const sample = (t0: number) => {
  const evaluators = evaluatorsOf(pids.worker);
  const rss: Record<string, number> = {};
  for (const [k, pid] of Object.entries(pids)) rss[k] = rssMb(pid);
  rss.expression_pool = evaluators.reduce((t, p) => t + rssMb(p), 0);
  samples.push({
    t: (performance.now() - t0) / 1000,
    weftRuns: counts.weft,
    rawRuns: counts.raw,
    rss,
    evaluators: evaluators.length,
  });
};

try {
  const client = new WeftApi(`http://127.0.0.1:${apiPort}`);
  await client.login("soak@weft.local", "soak bench password");
  const node = (wf: string, name: string, type: string, config: Record<string, unknown>) =>
    client.call<{ id: string }>("POST", `/api/workflows/${wf}/nodes`, { name, type, config }).then((n) => n.id);
  // The sandbox table, made by a run of its own (the tenant's schema is provisioned on first use).
  const setupWf = (await client.call<{ id: string }>("POST", "/api/workflows", { name: "soak setup" })).id;
  await node(setupWf, "create", "db_write", { sql: "CREATE TABLE IF NOT EXISTS soak (run_id text, temp numeric)" });
  const made = await client.execute(setupWf);
  const setupRun = await client.waitEnd(setupWf, made.runId);
  if (setupRun.status !== "succeeded") throw new Error(`soak setup run: ${JSON.stringify(setupRun)}`);
  const wf = (await client.call<{ id: string }>("POST", "/api/workflows", { name: "soak chain" })).id;
  const ids = [
    await node(wf, "fetch", "http_request", { url, method: "GET" }),
    await node(wf, "shape", "transform", { expression: "nodes.fetch.output.body.temp_c * 2" }),
    await node(wf, "store", "db_write", {
      sql: "INSERT INTO soak (run_id, temp) VALUES ($1, $2)",
      params: ["{{run.id}}", "{{nodes.shape.output}}"],
    }),
  ];
  for (let i = 1; i < ids.length; i++) {
    await client.call("POST", `/api/workflows/${wf}/edges`, { source_node_id: ids[i - 1], target_node_id: ids[i] });
  }

  const t0 = performance.now();
  sample(t0);
  const loadEnd = t0 + minutes * 60_000;
  const idleEnd = loadEnd + idleMinutes * 60_000;
  const sampler = (async () => {
    while (performance.now() < idleEnd) {
      await sleep(sampleS * 1000);
      sample(t0);
    }
  })();
  const weftLoop = async () => {
    while (performance.now() < loadEnd) {
      try {
        const { runId } = await client.execute(wf);
        const run = await client.waitEnd(wf, runId);
        if (run.status === "succeeded") counts.weft++;
        else {
          counts.weftFailed++;
          counts.lastError = JSON.stringify(run).slice(0, 300);
        }
      } catch (err) {
        counts.weftFailed++;
        counts.lastError = (err as Error).message.slice(0, 300);
        await sleep(200);
      }
    }
  };
  const rawLoop = async () => {
    while (performance.now() < loadEnd) {
      try {
        const handle = await temporal.workflow.start<typeof rawChain>("rawChain", {
          taskQueue: rawTaskQueue(RAW_QUEUE),
          workflowId: `soak-raw-${randomUUID()}`,
          args: [url, 3],
        });
        await handle.result();
        counts.raw++;
      } catch (err) {
        counts.rawFailed++;
        counts.lastError = (err as Error).message.slice(0, 300);
        await sleep(200);
      }
    }
  };
  const progress = setInterval(() => {
    const s = samples.at(-1)!;
    console.log(
      `${Math.round(s.t)} s: weft ${counts.weft} runs (${counts.weftFailed} failed), raw ${counts.raw}; RSS MiB ${
        Object.entries(s.rss).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ")
      } (${s.evaluators} evaluators)`,
    );
  }, 60_000);
  await Promise.all([...Array.from({ length: clients }, weftLoop), rawLoop()]);
  console.log(`load over after ${((performance.now() - t0) / 1000).toFixed(0)} s; idling`);
  await sampler;
  clearInterval(progress);
  console.log(table(t0, loadEnd));
  // Every sample, for plotting or a second look at where the memory went.
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/soak.json", JSON.stringify({ minutes, clients, idleMinutes, counts, samples }, null, 1));
  if (counts.lastError) console.log(`last error: ${counts.lastError}`);
} finally {
  await stopAll();
}
process.exit(0);

/** Least-squares slope of y against x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den ? num / den : 0;
}

function table(t0: number, loadEnd: number): string {
  const loadEndS = (loadEnd - t0) / 1000;
  // Warm-up: the first minute, or the first fifth of a shorter load.
  const warmS = Math.min(60, loadEndS / 5);
  const during = samples.filter((s) => s.t <= loadEndS + sampleS / 2);
  const warm = during.find((s) => s.t >= warmS) ?? during[0];
  const fit = during.filter((s) => s.t >= warmS);
  const end = during.at(-1)!;
  const idle = samples.at(-1)!;
  const rows = Object.keys(samples[0].rss).map((k) => {
    // Temporal serves both loads; each worker only its own.
    const raw = k === "raw_worker", both = k === "temporal";
    const x = fit.map((s) => (raw ? s.rawRuns : both ? s.rawRuns + s.weftRuns : s.weftRuns));
    const per1000 = slope(x, fit.map((s) => s.rss[k])) * 1000;
    const f = (v: number) => v.toFixed(1);
    return `| ${k} | ${f(samples[0].rss[k])} | ${f(warm.rss[k])} | ${f(end.rss[k])} | ${f(idle.rss[k])} | ${
      per1000.toFixed(2)
    } (per 1,000 ${raw ? "raw" : both ? "Weft + raw" : "Weft"} runs) |`;
  });
  return [
    `${minutes} min load, ${clients} clients on Weft + 1 on rawChain(3); idle ${idleMinutes} min; samples every ${sampleS} s`,
    `Weft runs: ${counts.weft} succeeded, ${counts.weftFailed} failed; raw runs: ${counts.raw} succeeded, ${counts.rawFailed} failed`,
    `expression evaluators at the end of load: ${end.evaluators}, after idle: ${idle.evaluators}`,
    "",
    "| process | RSS MiB at start | after warm-up | end of load | after idle | growth MiB (fit after warm-up) |",
    "|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}
