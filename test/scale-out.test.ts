/**
 * Scale-out: two Deno API processes and two Node workers against one Temporal server and one PostgreSQL. Runs
 * are started alternately through both APIs; each ends exactly once, every node runs once, and `?wait` and the
 * SSE stream answer on the API process that did not start the run (its event hub hears the other's writes
 * through PostgreSQL's NOTIFY). Runs on the global test stack's Temporal and database, on a task queue of its
 * own that only these two workers poll.
 */
import { Client, Connection } from "@temporalio/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isFinalRunStatus } from "../core/contract.ts";
import { connect, type Sql } from "../db/client.ts";
import { TEST_DATABASE_URL, TEST_TEMPORAL_ADDRESS } from "./env.ts";
import { json, startUpstream, type Upstream } from "./helpers.ts";
import type { Spawned } from "./processes.ts";
import { ApiClient, freePort, type Json, kill9, ProcessSet, startApi, startQueueWorker, waitFor } from "./stack.ts";

const QUEUE = "weft-scale-out";
const RUNS = 24;
const NODE_MS = 150;
const procs = new ProcessSet();
let upstream: Upstream;
let sql: Sql;
let connection: Connection;
let apis: ApiClient[] = [];
let apiProcs: Spawned[] = [];
let workers: Spawned[] = [];

beforeAll(async () => {
  sql = connect(TEST_DATABASE_URL, { max: 4 });
  upstream = await startUpstream((req, _body, res) => {
    const url = new URL(req.url!, "http://x");
    setTimeout(() => json(res, 200, { path: url.pathname }), Number(url.searchParams.get("ms") ?? 0));
  });
  const ports = [await freePort(), await freePort()];
  const started = await Promise.all([
    ...ports.map((port) => startApi(port, QUEUE, TEST_TEMPORAL_ADDRESS)),
    startQueueWorker(QUEUE, TEST_TEMPORAL_ADDRESS),
    startQueueWorker(QUEUE, TEST_TEMPORAL_ADDRESS),
  ]);
  for (const p of started) procs.track(p);
  apiProcs = started.slice(0, 2);
  workers = started.slice(2);
  apis = ports.map((port) => new ApiClient(`http://127.0.0.1:${port}`));
  await apis[0].login("scale-out");
  apis[1].token = apis[0].token; // one user, served by either process
  connection = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
}, 180_000);

afterAll(async () => {
  await procs.stopAll();
  await connection?.close();
  await upstream?.close();
  await sql?.end();
});

/** Reads a run's SSE stream until the event that makes the run final (or the stream's end); the events seen. */
async function followEvents(api: ApiClient, workflowId: string, runId: string) {
  const res = await fetch(`${api.base}/api/workflows/${workflowId}/runs/${runId}/events`, {
    headers: { authorization: `Bearer ${api.token}` },
    signal: AbortSignal.timeout(60_000),
  });
  const events: { event: string; data: Json }[] = [];
  if (res.status === 204) return events;
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return events;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!event || data === undefined) continue;
      events.push({ event, data: JSON.parse(data) });
      if (event === "run" && isFinalRunStatus(JSON.parse(data).status)) {
        await reader.cancel();
        return events;
      }
    }
  }
}

/** Every workflow and activity task's worker identity in the run's Temporal history. */
async function workerIdentities(temporal: Client, workflowId: string) {
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  const ids = new Set<string>();
  for (const e of history.events ?? []) {
    const id = e.workflowTaskStartedEventAttributes?.identity ?? e.activityTaskStartedEventAttributes?.identity;
    if (id) ids.add(id);
  }
  return ids;
}

describe("two API processes and two workers on one Temporal and one PostgreSQL", () => {
  it("every run ends once, every node runs once, ?wait and SSE answer on the other API process", async () => {
    const wf = await apis[0].chain(
      "scale-out",
      ["n1", "n2", "n3"].map((name) => ({
        name,
        config: { url: `${upstream.url}/scale/{{run.id}}/${name}`, query: { ms: String(NODE_MS) } },
      })),
    );
    type Outcome = { runId: string; starter: number; waited: Json; waitedAt: number; events?: Json[] };
    const runOne = async (i: number): Promise<Outcome> => {
      const starter = i % 2;
      const other = apis[1 - starter];
      if (i % 3 === 2) {
        // One request per run, on the process that starts it.
        const res = await apis[starter].request("POST", `/api/workflows/${wf}/execute?wait=30`, { input: { i } });
        expect(res.status).toBe(200);
        return { runId: res.body.id, starter, waited: res.body, waitedAt: Date.now() };
      }
      const started = await apis[starter].execute(wf, { i });
      expect(started.status).toBe(202);
      const runId = started.body.run_id;
      const [waited, events] = await Promise.all([
        other.request("GET", `/api/workflows/${wf}/runs/${runId}?wait=30`).then((r) => ({ ...r, at: Date.now() })),
        i % 3 === 0 ? followEvents(other, wf, runId) : undefined,
      ]);
      expect(waited.status).toBe(200);
      return { runId, starter, waited: waited.body, waitedAt: waited.at, events };
    };
    // Eight at a time, so runs from both APIs interleave on both workers.
    const outcomes: Outcome[] = [];
    for (let from = 0; from < RUNS; from += 8) {
      outcomes.push(...await Promise.all(Array.from({ length: 8 }, (_, k) => runOne(from + k))));
    }

    const runIds = outcomes.map((o) => o.runId);
    expect(new Set(runIds).size).toBe(RUNS);
    for (const o of outcomes) {
      // The waiting process answered with the finished run, on its own hub's notification (no polling interval).
      expect(o.waited.status, o.runId).toBe("succeeded");
      expect(o.waited.node_executions.map((e: Json) => e.node_name)).toEqual(["n1", "n2", "n3"]);
      expect(o.waitedAt - new Date(o.waited.finished_at).getTime(), o.runId).toBeLessThan(1500);
      if (o.events) {
        const nodes = o.events.filter((e) => e.event === "node" && e.data.status === "succeeded");
        expect(nodes.map((e) => e.data.node_name), o.runId).toEqual(["n1", "n2", "n3"]);
        expect(o.events.at(-1)).toMatchObject({ event: "run", data: { status: "succeeded" } });
      }
    }

    // One final status per run: the row, and exactly one final `run` event.
    const finals = await sql<{ run_id: string; n: number }[]>`
      SELECT r.id AS run_id, count(e.id)::int AS n FROM workflow_runs r
      LEFT JOIN run_events e ON e.run_id = r.id AND e.type = 'run'
        AND e.data->>'status' IN ('succeeded', 'failed', 'cancelled')
      WHERE r.id = ANY(${runIds}::uuid[]) AND r.status = 'succeeded' GROUP BY r.id`;
    expect(finals.length).toBe(RUNS);
    expect(finals.filter((f) => f.n !== 1)).toEqual([]);
    // One attempt per node (no crash forced a retry), and each node's HTTP call made once.
    const attempts = await sql<{ run_id: string; node_name: string; rows: number; max_attempt: number }[]>`
      SELECT run_id, node_name, count(*)::int AS rows, max(attempt)::int AS max_attempt FROM node_executions
      WHERE run_id = ANY(${runIds}::uuid[]) GROUP BY run_id, node_name`;
    expect(attempts.length).toBe(RUNS * 3);
    expect(attempts.filter((a) => a.rows !== 1 || a.max_attempt !== 1)).toEqual([]);
    const calls = new Map<string, number>();
    for (const r of upstream.requests) {
      const path = new URL(r.url, "http://x").pathname;
      calls.set(path, (calls.get(path) ?? 0) + 1);
    }
    for (const runId of runIds) {
      for (const n of ["n1", "n2", "n3"]) expect(calls.get(`/scale/${runId}/${n}`), `${runId} ${n}`).toBe(1);
    }

    // Both APIs started runs and both workers ran them.
    expect(new Set(outcomes.map((o) => o.starter))).toEqual(new Set([0, 1]));
    const temporal = new Client({ connection });
    const identities = new Set<string>();
    for (const o of outcomes) {
      for (const id of await workerIdentities(temporal, `weft-run-${o.runId}`)) identities.add(id);
    }
    const pids = workers.map((w) => String(w.proc.pid));
    expect([...identities].map((id) => id.split("@")[0]).filter((pid) => pids.includes(pid)).sort())
      .toEqual([...new Set(pids)].sort());
  }, 240_000);

  it(
    "an API process killed while a client waits: the client's retry with its Idempotency-Key on the other gets the same run",
    async () => {
      const wf = await apis[1].chain(
        "scale-out-retry",
        ["n1", "n2"].map((name) => ({
          name,
          config: { url: `${upstream.url}/retry/{{run.id}}/${name}`, query: { ms: "700" } },
        })),
      );
      const key = `retry-${crypto.randomUUID()}`;
      const post = (api: ApiClient) =>
        fetch(`${api.base}/api/workflows/${wf}/execute?wait=30`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${api.token}`, "idempotency-key": key },
          body: JSON.stringify({ input: {} }),
        });
      const first = post(apis[0]).then(() => "answered", () => "connection lost");
      const [claimed] = await waitFor(
        "the key's run",
        async () => {
          const rows = await sql<{ run_id: string }[]>`SELECT run_id FROM run_idempotency_keys WHERE key = ${key}`;
          return rows.length ? rows : undefined;
        },
        30_000,
        20,
      );
      await kill9(apiProcs[0]);
      expect(await first).toBe("connection lost");

      const retried = await post(apis[1]);
      expect(retried.status).toBe(200);
      expect(retried.headers.get("idempotent-replayed")).toBe("true");
      const run = await retried.json();
      expect(run).toMatchObject({ id: claimed.run_id, status: "succeeded" });
      const runs = await sql`SELECT id FROM workflow_runs WHERE workflow_id = ${wf}`;
      expect(runs.map((r) => r.id)).toEqual([claimed.run_id]);
      for (const n of ["n1", "n2"]) {
        expect(upstream.requests.filter((r) => r.url.startsWith(`/retry/${claimed.run_id}/${n}`)), n).toHaveLength(1);
      }
    },
    120_000,
  );
});
