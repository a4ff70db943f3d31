/**
 * OpenTelemetry traces of a real 3-node run: the Deno API and the Node worker export OTLP/HTTP (JSON) to a local
 * receiver, and one trace runs from the caller's traceparent through the API's execute span, the Temporal
 * workflow, each node's activity and node span, to the outbound HTTP call, whose target receives the trace's
 * `traceparent`; the llm_call node runs on the GPU queue's worker. With tracing off (the in-process app and the suite's worker) no trace header leaves Weft.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { weftDataConverter } from "../core/payload-codec.ts";
import { temporalWorkflowId } from "../db/runs.ts";
import { payloadTenantKeys } from "../db/payload-keys.ts";
import { TEST_BUNDLE_PATH, TEST_PAYLOAD_KEY } from "./env.ts";
import { type Spawned, startDenoApi, startWorker } from "./processes.ts";
import { useApiHarness } from "./harness.ts";
import { buildWorkflow, call, json, startUpstream, type Upstream, waitForRun } from "./helpers.ts";
import { freePort } from "./stack.ts";

const QUEUE = `weft-tracing-${process.pid}`;
const indexDir = mkdtempSync(join(tmpdir(), "weft-tracing-indexes-"));
// The caller's own trace, which the run must continue.
const CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";

interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
  status?: { code?: number; message?: string };
  service: string;
}

let api: Spawned;
let worker: Spawned;
let receiver: Upstream;
let target: Upstream;
let base: string;
const t = useApiHarness({ names: ["untraced", "bob"] });
const spans: OtlpSpan[] = [];

type AnyValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number };
const value = (v: AnyValue) => v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue;
const attrs = (list: { key: string; value: AnyValue }[] = []) =>
  Object.fromEntries(list.map((a) => [a.key, value(a.value)]));

/** The OTLP/JSON export request's spans, flattened with their service names. */
function collect(body: string) {
  const doc = JSON.parse(body);
  for (const rs of doc.resourceSpans ?? []) {
    const service = String(attrs(rs.resource?.attributes)["service.name"]);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          name: s.name,
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined,
          attributes: attrs(s.attributes),
          status: s.status,
          service,
        });
      }
    }
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`${what} not seen; spans: ${spans.map((s) => s.name).join(", ")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function http(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

beforeAll(async () => {
  receiver = await startUpstream((req, body, res) => {
    if (req.url === "/v1/traces") collect(body);
    json(res, 200, {});
  });
  target = await startUpstream((_req, _body, res) => json(res, 200, { temperature: 21 }));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, WEFT_GPU_TASK_QUEUE: `${QUEUE}-gpu` };
  [api, worker] = await Promise.all([
    startDenoApi(port, QUEUE, otel),
    startWorker(QUEUE, { ...otel, INDEX_DIR: indexDir }),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await Promise.all([receiver?.close(), target?.close()]);
  rmSync(indexDir, { recursive: true, force: true });
});

describe("traces of a 3-node run (OTLP/HTTP to a local receiver)", () => {
  let runId: string;
  let traceparent: string;

  beforeAll(async () => {
    const email = `tracing-${Date.now()}@example.com`;
    await http("POST", "/api/auth/register", { email, password: "a long password" });
    const token = (await http("POST", "/api/auth/login", { email, password: "a long password" })).body.access_token;
    const auth = { authorization: `Bearer ${token}` };
    const wf = (await http("POST", "/api/workflows", { name: "traced" }, auth)).body.id;
    const nodes = [
      { name: "city", type: "transform", config: { expression: "input.city" } },
      { name: "weather", type: "http_request", config: { url: `${target.url}/weather`, method: "GET" } },
      // On the GPU queue's worker: its activities continue the trace too.
      {
        name: "report",
        type: "llm_call",
        config: { prompt: "It is {{nodes.weather.output.body.temperature}} degrees.", max_tokens: 2 },
      },
    ];
    const ids: string[] = [];
    for (const n of nodes) ids.push((await http("POST", `/api/workflows/${wf}/nodes`, n, auth)).body.id);
    for (const [s, t] of [[ids[0], ids[1]], [ids[1], ids[2]]]) {
      await http("POST", `/api/workflows/${wf}/edges`, { source_node_id: s, target_node_id: t }, auth);
    }
    const started = await http("POST", `/api/workflows/${wf}/execute`, { input: { city: "Quito" } }, {
      ...auth,
      traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`,
    });
    expect(started.status).toBe(202);
    runId = started.body.run_id;
    const run = await http("GET", `/api/workflows/${wf}/runs/${runId}?wait=60`, undefined, auth);
    expect(run.body.status, JSON.stringify(run.body)).toBe("succeeded");
    traceparent = String(target.requests[0]?.headers.traceparent);
    // The workflow's spans leave the worker when the workflow ends, in the next batch.
    await until("the workflow span", () => spans.find((s) => s.name === "RunWorkflow:runDag") && true);
    await until("the report node span", () => spans.find((s) => s.name === "node report") && true);
  }, 120_000);

  const one = (name: string) => {
    const found = spans.filter((s) => s.name === name && s.traceId === CALLER_TRACE);
    expect(found.map((s) => s.name), `spans named ${name}`).toEqual([name]);
    return found[0];
  };
  const parentOf = (span: OtlpSpan) => spans.find((s) => s.spanId === span.parentSpanId);

  it("the API's execute span continues the caller's trace and carries the run id", () => {
    const execute = one("weft.execute");
    expect(execute.parentSpanId).toBe(CALLER_SPAN);
    expect(execute.service).toBe("weft-api");
    expect(execute.attributes["weft.run_id"]).toBe(runId);
  });

  it("the workflow span is the execute span's child, in the worker", () => {
    const workflow = one("RunWorkflow:runDag");
    expect(parentOf(workflow)?.name).toBe("weft.execute");
    expect(workflow.service).toBe("weft-worker");
  });

  it("each node has a span, with its name and the run id, under its activity under the workflow", () => {
    for (const name of ["city", "weather", "report"]) {
      const node = one(`node ${name}`);
      expect(node.attributes).toMatchObject({ "weft.node_name": name, "weft.run_id": runId, "weft.attempt": 1 });
      const run = parentOf(node)!;
      // A local activity (city, weather: core/node-execution.ts) and a regular one (report) alike.
      expect(run.name).toMatch(/^RunActivity:/);
      const scheduled = parentOf(run)!;
      expect(scheduled.name).toMatch(/^StartActivity:/);
      expect(parentOf(scheduled)?.name).toBe("RunWorkflow:runDag");
    }
  });

  it("the outbound HTTP call is a span under its node and the target gets its traceparent", () => {
    const call = one("HTTP GET");
    expect(parentOf(call)?.name).toBe("node weather");
    expect(call.attributes).toMatchObject({ "server.address": "127.0.0.1", "http.response.status_code": 200 });
    expect(traceparent).toBe(`00-${CALLER_TRACE}-${call.spanId}-01`);
  });

  it("Weft's PostgreSQL helpers have spans (operation names, no SQL text) in the API and in the worker", () => {
    const insert = one("db workflow_runs.insert");
    expect(parentOf(insert)?.name).toBe("weft.execute");
    expect(insert.attributes).toEqual({ "db.system": "postgresql", "db.operation.name": "workflow_runs.insert" });
    // Each node's attempt is recorded in one write when it is short, or a running row then its end.
    for (const node of ["node city", "node report", "node weather"]) {
      const ops = spans.filter((s) => s.name.startsWith("db node_executions.") && s.traceId === CALLER_TRACE)
        .filter((s) => parentOf(s)?.name === node).map((s) => s.name.slice("db node_executions.".length));
      const writes = ops.filter((op) => op !== "live").sort();
      expect([["recorded"], ["finished", "started"]], `${node}: ${ops}`).toContainEqual(writes);
    }
  });

  it("every span of the run is in the caller's one trace", () => {
    const runSpans = spans.filter((s) => s.attributes["weft.run_id"] === runId);
    expect(runSpans.length).toBeGreaterThanOrEqual(4);
    expect(new Set(runSpans.map((s) => s.traceId))).toEqual(new Set([CALLER_TRACE]));
  });

  it(
    "the traced run's history (trace headers on its start and activities) replays against the workflow bundle",
    async () => {
      const history = await t.temporal.workflow.getHandle(temporalWorkflowId(runId)).fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      expect(Object.keys(started?.header?.fields ?? {})).toContain("_tracer-data");
      const env = { WEFT_PAYLOAD_KEY: TEST_PAYLOAD_KEY };
      const dataConverter = await weftDataConverter(env, await payloadTenantKeys(t.sql, env));
      // Throws on a determinism violation or any other replay failure.
      await Worker.runReplayHistory(
        // The workflows' span sink, as a worker registers it (a replay calls no sink, but needs it registered).
        { workflowBundle: { codePath: TEST_BUNDLE_PATH }, dataConverter, sinks: { exporter: { export: { fn() {} } } } },
        history,
        temporalWorkflowId(runId),
      );
    },
    60_000,
  );

  it("the API's log lines for the run carry the trace id", () => {
    const line = api.output().split("\n").find((l) => l.includes('"run started"') && l.includes(runId));
    expect(line, api.output().slice(-2000)).toBeDefined();
    expect(JSON.parse(line!).trace_id).toBe(CALLER_TRACE);
  });
});

describe("the collector is Weft's infrastructure", () => {
  it(
    "a node cannot post spans to the OTLP endpoint: the request is refused and the receiver gets nothing",
    async () => {
      const email = `tracing-attack-${Date.now()}@example.com`;
      await http("POST", "/api/auth/register", { email, password: "a long password" });
      const token = (await http("POST", "/api/auth/login", { email, password: "a long password" })).body.access_token;
      const auth = { authorization: `Bearer ${token}` };
      const wf = (await http("POST", "/api/workflows", { name: "forge spans" }, auth)).body.id;
      const forged = { resourceSpans: [{ scopeSpans: [{ spans: [{ name: "forged", traceId: CALLER_TRACE }] }] }] };
      const node = {
        name: "forge",
        type: "http_request",
        config: { url: `${receiver.url}/v1/traces`, method: "POST", body: forged },
      };
      expect((await http("POST", `/api/workflows/${wf}/nodes`, node, auth)).status).toBe(201);
      const before = receiver.requests.length;
      const receivedBefore = spans.length;
      const started = await http("POST", `/api/workflows/${wf}/execute`, { input: {} }, auth);
      expect(started.status).toBe(202);
      const run = await http("GET", `/api/workflows/${wf}/runs/${started.body.run_id}?wait=60`, undefined, auth);
      expect(run.body.status).toBe("failed");
      expect(JSON.stringify(run.body.node_executions ?? run.body)).toContain("EgressBlocked");
      // Whatever reached the receiver since is Weft's own export (this run's spans), never the forged one.
      expect(receiver.requests.slice(before).every((r) => !r.body.includes('"forged"'))).toBe(true);
      expect(spans.slice(receivedBefore).some((s) => s.name === "forged")).toBe(false);
      // The refused call's span is marked failed with the error's class only: its message names the target.
      const forgeSpan = await until(
        "the forge node's span",
        () => spans.find((s) => s.name === "node forge" && s.attributes["weft.run_id"] === started.body.run_id),
      );
      const call = await until(
        "its HTTP span",
        () => spans.find((s) => s.name === "HTTP POST" && s.parentSpanId === forgeSpan.spanId),
      );
      expect(call.status?.code).toBe(2);
      expect(JSON.stringify(call)).not.toContain("blocked request");
    },
    90_000,
  );
});

describe("tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)", () => {
  it("a run started with a caller's traceparent sends no trace header to its target and exports nothing", async () => {
    const { app } = t;
    const user = t.alice;
    const off = await startUpstream((_req, _body, res) => json(res, 200, { ok: true }));
    try {
      const { workflowId } = await buildWorkflow(app, user.token, [{ name: "a", config: { url: off.url } }]);
      const before = spans.length;
      const started = await call(app, "POST", `/api/workflows/${workflowId}/execute`, {
        token: user.token,
        body: { input: {} },
        headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
      });
      expect(started.status).toBe(202);
      const run = await waitForRun(app, user.token, workflowId, started.body.run_id, 60_000);
      expect(run.status).toBe("succeeded");
      expect(off.requests).toHaveLength(1);
      expect(off.requests[0].headers.traceparent).toBeUndefined();
      expect(spans.filter((s) => s.attributes["weft.run_id"] === started.body.run_id)).toEqual([]);
      expect(spans.length).toBe(before);
    } finally {
      await off.close();
    }
  }, 90_000);
});
