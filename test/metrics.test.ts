/**
 * Prometheus metrics after a real run: the Deno API's /metrics on WEFT_METRICS_PORT (requests by route template,
 * runs started, runs queued) and the worker's on WORKER_METRICS_PORT (node durations, model tokens, runs
 * finished, run durations). Neither carries user, workflow or run ids.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchJson } from "./helpers.ts";
import { type Spawned, startDenoApi, startWorker } from "./processes.ts";
import { freePort } from "./stack.ts";

const QUEUE = `weft-metrics-${process.pid}`;
const GPU_QUEUE = `weft-metrics-gpu-${process.pid}`;
let api: Spawned;
let worker: Spawned;
let base: string;
let apiMetrics: string;
let workerMetrics: string;
const indexDir = mkdtempSync(join(tmpdir(), "weft-metrics-indexes-"));

const http = (method: string, path: string, body?: unknown, token?: string) =>
  fetchJson(base, method, path, body, token);

/** The value of one sample, `name{labels…}` matched with every given label (any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

let runId: string;
let workflowId: string;

beforeAll(async () => {
  const [port, apiMetricsPort, workerMetricsPort] = await Promise.all([freePort(), freePort(), freePort()]);
  base = `http://127.0.0.1:${port}`;
  [api, worker] = await Promise.all([
    startDenoApi(port, QUEUE, { WEFT_GPU_TASK_QUEUE: GPU_QUEUE, WEFT_METRICS_PORT: String(apiMetricsPort) }),
    startWorker(QUEUE, {
      WEFT_GPU_TASK_QUEUE: GPU_QUEUE,
      WORKER_METRICS_PORT: String(workerMetricsPort),
      INDEX_DIR: indexDir,
      WEFT_MODEL_DEVICE: "auto",
    }),
  ]);
  const email = `metrics-${Date.now()}@example.com`;
  await http("POST", "/api/auth/register", { email, password: "a long password" });
  const token = (await http("POST", "/api/auth/login", { email, password: "a long password" })).body.access_token;
  workflowId = (await http("POST", "/api/workflows", { name: "metrics" }, token)).body.id;
  const ids: string[] = [];
  for (
    const node of [
      { name: "a", type: "transform", config: { expression: "input.city" } },
      { name: "b", type: "llm_call", config: { prompt: "Weather in {{nodes.a.output}}?", max_tokens: 4 } },
      { name: "c", type: "transform", config: { expression: "nodes.b.output.text" } },
    ]
  ) ids.push((await http("POST", `/api/workflows/${workflowId}/nodes`, node, token)).body.id);
  for (const [s, t] of [[ids[0], ids[1]], [ids[1], ids[2]]]) {
    await http("POST", `/api/workflows/${workflowId}/edges`, { source_node_id: s, target_node_id: t }, token);
  }
  const started = await http("POST", `/api/workflows/${workflowId}/execute`, { input: { city: "Quito" } }, token);
  expect(started.status).toBe(202);
  runId = started.body.run_id;
  const run = await http("GET", `/api/workflows/${workflowId}/runs/${runId}?wait=60`, undefined, token);
  expect(run.body.status, JSON.stringify(run.body)).toBe("succeeded");
  [apiMetrics, workerMetrics] = await Promise.all([
    fetch(`http://127.0.0.1:${apiMetricsPort}/metrics`).then((r) => r.text()),
    fetch(`http://127.0.0.1:${workerMetricsPort}/metrics`).then((r) => r.text()),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  rmSync(indexDir, { recursive: true, force: true });
});

describe("Prometheus metrics after a 3-node run", () => {
  it("the API counts requests by route template and status, and the run it started", () => {
    const execute = { method: "POST", route: "/api/workflows/:id/execute", status: "202" };
    expect(sample(apiMetrics, "weft_http_request_duration_seconds_count", execute)).toBe(1);
    expect(sample(apiMetrics, "weft_http_request_duration_seconds_bucket", { ...execute, le: "+Inf" })).toBe(1);
    expect(sample(apiMetrics, "weft_runs_started_total", { trigger: "api" })).toBe(1);
    // A gauge over the whole database, which test files running beside this one share: its own run is not
    // pending any more, so the gauge is a count, not necessarily zero.
    const queued = sample(apiMetrics, "weft_runs_queued");
    expect(Number.isInteger(queued) && queued! >= 0).toBe(true);
  });

  it("the worker records node durations by type, model tokens, runs finished and their durations", () => {
    expect(sample(workerMetrics, "weft_node_duration_seconds_count", { type: "transform", status: "succeeded" }))
      .toBe(2);
    expect(sample(workerMetrics, "weft_node_duration_seconds_count", { type: "llm_call", status: "succeeded" }))
      .toBe(1);
    expect(sample(workerMetrics, "weft_llm_tokens_total", { kind: "completion" })).toBeGreaterThan(0);
    expect(sample(workerMetrics, "weft_llm_tokens_total", { kind: "prompt" })).toBeGreaterThan(0);
    expect(sample(workerMetrics, "weft_runs_finished_total", { status: "succeeded" })).toBe(1);
    expect(sample(workerMetrics, "weft_run_duration_seconds_count", { status: "succeeded" })).toBe(1);
    expect(sample(workerMetrics, "weft_run_duration_seconds_sum", { status: "succeeded" })).toBeGreaterThan(0);
  });

  it("the API reports workers polling each task queue as weft_task_queue_pollers, as /readyz does", async () => {
    // The worker polls QUEUE (workflows and activities); Temporal lists a poller once it has polled, so the
    // scrape taken after a finished run sees it.
    expect(sample(apiMetrics, "weft_task_queue_pollers", { queue: QUEUE, kind: "workflow" })).toBeGreaterThan(0);
    expect(sample(apiMetrics, "weft_task_queue_pollers", { queue: QUEUE, kind: "activity" })).toBeGreaterThan(0);
    // The GPU queue is polled by the same process's second worker (if any): present as a number either way.
    expect(sample(apiMetrics, "weft_task_queue_pollers", { queue: GPU_QUEUE, kind: "workflow" })).toBeTypeOf("number");
    const ready = await (await fetch(`${base}/readyz`)).json();
    expect(ready.workers[QUEUE].polled).toBe(true);
    expect(ready.workers[QUEUE].activity).toBe(
      sample(apiMetrics, "weft_task_queue_pollers", { queue: QUEUE, kind: "activity" }),
    );
  });

  it("labels carry no ids (no user, workflow or run id in any sample)", () => {
    for (const text of [apiMetrics, workerMetrics]) {
      expect(text).not.toContain(runId);
      expect(text).not.toContain(workflowId);
    }
  });

  it("serves metrics only on their own port, not on the API's", async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });
});
