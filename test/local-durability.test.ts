/**
 * Durability of local activities with real processes: a worker killed with SIGKILL in the middle of consecutive
 * local-activity nodes, whose results were not yet in Temporal's history (they reach it when the workflow task
 * completes). A second worker re-runs that workflow task: nodes that had finished answer from node_executions
 * without running again, the interrupted one shows its lost attempt and a second one. Workers run on a task
 * queue of this file's own, against the test stack's Temporal and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import proto from "@temporalio/proto";
import { call, json, setupApp, type TestContext, waitForRun } from "./helpers.ts";
import { useApiHarness } from "./harness.ts";
import { type Spawned, startWorker } from "./processes.ts";
import { waitFor } from "./stack.ts";

const QUEUE = `weft-local-kill-${process.pid}`;
const t = useApiHarness({
  upstream: (req, _body, res) => {
    const url = new URL(req.url!, "http://x");
    setTimeout(() => json(res, 200, { path: url.pathname, run: url.searchParams.get("run") }), 400);
  },
});
let app: TestContext;
const workers: Spawned[] = [];

beforeAll(async () => {
  app = await setupApp({ WEFT_TASK_QUEUE: QUEUE });
  workers.push(await startWorker(QUEUE));
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop("SIGKILL")));
});

/** Upstream requests by path. */
const hitsOf = (path: string) => t.upstream.requests.filter((r) => new URL(r.url, "http://x").pathname === path).length;
const logs = () => workers.map((w, i) => `--- worker ${i}\n${w.output().slice(-3000)}`).join("\n");

type Row = { node_name: string; attempt: number; status: string; execution: string | null; error_type: string | null };
const executions = (runId: string) =>
  t.sql<Row[]>`SELECT node_name, attempt, status, execution, error->>'type' AS error_type FROM node_executions
    WHERE run_id = ${runId} ORDER BY node_name, attempt`;

/** A chain of local nodes: transforms around five short http_requests that each take 400 ms. */
async function localChain(): Promise<{ workflowId: string; names: string[] }> {
  const http = (name: string) => ({
    name,
    config: { url: `${t.upstream.url}/lk/${name}`, query: { run: "{{run.id}}" }, timeout_ms: 5000 },
  });
  const nodes = [
    { name: "t1", type: "transform", config: { expression: '{"x": input.x * 2}' } },
    http("h1"),
    http("h2"),
    { name: "t2", type: "transform", config: { expression: 'nodes.h2.output.body.path & "+" & nodes.t1.output.x' } },
    http("h3"),
    http("h4"),
    http("h5"),
    {
      name: "last",
      type: "transform",
      config: { expression: "[nodes.t2.output, nodes.h5.output.body.path, nodes.h5.output.body.run]" },
    },
  ];
  const wf = await call(app.app, "POST", "/api/workflows", { token: t.alice.token, body: { name: "local-kill" } });
  const ids: string[] = [];
  for (const n of nodes) {
    const res = await call(app.app, "POST", `/api/workflows/${wf.body.id}/nodes`, {
      token: t.alice.token,
      body: { type: "http_request", ...n },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    ids.push(res.body.id);
  }
  for (let i = 1; i < ids.length; i++) {
    const res = await call(app.app, "POST", `/api/workflows/${wf.body.id}/edges`, {
      token: t.alice.token,
      body: { source_node_id: ids[i - 1], target_node_id: ids[i] },
    });
    expect(res.status).toBe(201);
  }
  return { workflowId: wf.body.id, names: nodes.map((n) => n.name) };
}

describe("a worker killed in the middle of consecutive local activities", () => {
  it("a second worker finishes the run; nodes that had finished run once, the interrupted one twice", async () => {
    const { workflowId, names } = await localChain();
    const started = await call(app.app, "POST", `/api/workflows/${workflowId}/execute`, {
      token: t.alice.token,
      body: { input: { x: 21 } },
    });
    expect(started.status).toBe(202);
    const runId: string = started.body.run_id;

    // Kill the only worker while h4's request is in flight (the upstream answers after 400 ms).
    await waitFor("the request of h4", () => hitsOf("/lk/h4") === 1, 60_000, 20, logs);
    await new Promise((r) => setTimeout(r, 100));
    await workers[0].stop("SIGKILL");
    expect(workers[0].proc.signalCode).toBe("SIGKILL");
    const before = await executions(runId);
    expect(before.map((r) => [r.node_name, r.attempt, r.status, r.execution])).toEqual(
      [...["h1", "h2", "h3", "t1", "t2"].map((n) => [n, 1, "succeeded", "local"]), ["h4", 1, "running", "local"]]
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    // Those results were only in the dead worker's open workflow task: the history holds no node's marker yet.
    const history = await t.temporal.workflow.getHandle(started.body.temporal.workflow_id).fetchHistory();
    const markers = (history.events ?? []).filter((e) =>
      e.markerRecordedEventAttributes?.markerName === "core_local_activity" && e.userMetadata?.summary
    );
    expect(markers).toEqual([]);
    expect(history.events!.map((e) => e.eventType)).not.toContain(
      proto.temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    );

    workers.push(await startWorker(QUEUE));
    const run = await waitForRun(app.app, t.alice.token, workflowId, runId, 90_000);
    expect(run.status, logs()).toBe("succeeded");
    expect(run.output.last).toEqual(["/lk/h2+42", "/lk/h5", runId]);

    // Every node ran once but the interrupted one, which shows its lost attempt and a second one; all local.
    const rows = await executions(runId);
    const expected: Row[] = [...names].sort().flatMap((node_name) =>
      node_name === "h4"
        ? [
          { node_name, attempt: 1, status: "failed", execution: "local", error_type: "AttemptLost" },
          { node_name, attempt: 2, status: "succeeded", execution: "local", error_type: null },
        ]
        : [{ node_name, attempt: 1, status: "succeeded", execution: "local", error_type: null }]
    );
    expect(rows.map((r) => ({ ...r }))).toEqual(expected);
    const counts = Object.fromEntries(["h1", "h2", "h3", "h4", "h5"].map((n) => [n, hitsOf(`/lk/${n}`)]));
    expect(counts).toEqual({ h1: 1, h2: 1, h3: 1, h4: 2, h5: 1 });
  }, 150_000);
});
