/**
 * Bookkeeping per run (issue 16, docs/engine.md): no markRunStarted call — the first node row begins the run — and
 * one node_executions row per short attempt, seen through the API and its SSE stream against the real stack.
 */
import { describe, expect, it } from "vitest";
import { buildWorkflow, call, json, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";

const t = useApiHarness({
  upstream: (req, _body, res) => {
    const url = new URL(req.url!, "http://x");
    setTimeout(() => json(res, 200, { path: url.pathname }), Number(url.searchParams.get("ms") ?? 0));
  },
});

const http = (path: string) => ({ url: `${t.upstream.url}${path}`, retry: { max_attempts: 1 } });

async function run(nodes: { name: string; type?: string; config: Record<string, unknown> }[]) {
  const { workflowId } = await buildWorkflow(t.app, t.alice.token, nodes);
  const res = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, { token: t.alice.token, body: {} });
  expect(res.status).toBe(202);
  const runId = res.body.run_id as string;
  const finished = await waitForRun(t.app, t.alice.token, workflowId, runId);
  // A finished run's stream replays every event and closes.
  const stream = await t.app.request(`/api/workflows/${workflowId}/runs/${runId}/events`, {
    headers: { authorization: `Bearer ${t.alice.token}` },
  });
  const events = (await stream.text()).split("\n\n").flatMap((block) => {
    const event = /^event: (.*)$/m.exec(block)?.[1];
    const data = /^data: (.*)$/m.exec(block)?.[1];
    return event && data ? [{ event, data: JSON.parse(data) }] : [];
  });
  return { runId, finished, events };
}

const summary = (e: { event: string; data: { node_name?: string; status?: string } }) =>
  e.event === "node" ? `node ${e.data.node_name} ${e.data.status}` : `${e.event} ${e.data.status}`;

describe("bookkeeping per run", () => {
  it("a run of short nodes: running from its first node's row, one row and one event per node", async () => {
    const { runId, finished, events } = await run([
      { name: "a", config: http("/a") },
      { name: "b", config: http("/b?ms=20") },
      { name: "t", type: "transform", config: { expression: "nodes.b.output.body.path" } },
    ]);
    expect(finished.status).toBe("succeeded");
    expect(finished.output).toEqual({ t: "/b" });
    expect(events.map(summary)).toEqual([
      "run pending",
      "run running",
      "node a succeeded",
      "node b succeeded",
      "node t succeeded",
      "run succeeded",
    ]);
    // The final node events carry what the finished update used to: attempt, duration, output.
    expect(events[3].data).toMatchObject({ node_name: "b", attempt: 1, output: { body: { path: "/b" } } });
    expect(events[3].data.duration_ms).toBeGreaterThanOrEqual(15);
    const execs = finished.node_executions as { node_name: string; started_at: string; finished_at: string }[];
    expect(execs.map((e) => e.node_name)).toEqual(["a", "b", "t"]);
    const at = (s: string) => Date.parse(s);
    for (const e of execs) expect(at(e.finished_at)).toBeGreaterThanOrEqual(at(e.started_at));
    // Each node began after the one before it ended; the run began when its first node did.
    expect(at(execs[1].started_at)).toBeGreaterThanOrEqual(at(execs[0].finished_at));
    expect(at(finished.started_at)).toBeLessThanOrEqual(at(execs[0].started_at));
    expect(at(finished.started_at)).toBeGreaterThanOrEqual(at(finished.created_at));
    expect(at(finished.finished_at)).toBeGreaterThanOrEqual(at(execs[2].finished_at));
    const [{ n }] = await t.sql`SELECT count(*)::int AS n FROM node_executions WHERE run_id = ${runId}`;
    expect(n).toBe(3);
  });

  it("a long node still shows running before it ends", async () => {
    const { finished, events } = await run([{ name: "slow", config: http("/slow?ms=700") }]);
    expect(finished.status).toBe("succeeded");
    expect(events.map(summary)).toEqual([
      "run pending",
      "run running",
      "node slow running",
      "node slow succeeded",
      "run succeeded",
    ]);
    // Its running row was written late but dated from when the attempt began.
    const [e] = finished.node_executions;
    expect(e.duration_ms).toBeGreaterThanOrEqual(650);
    expect(Date.parse(e.finished_at) - Date.parse(e.started_at)).toBeGreaterThanOrEqual(650);
  });

  it("a run whose only node waits shows running, then waiting, as before", async () => {
    const { finished, events } = await run([{ name: "d", type: "delay", config: { duration_ms: 300 } }]);
    expect(finished.status).toBe("succeeded");
    expect(finished.started_at).not.toBeNull();
    expect(events.map(summary)).toEqual([
      "run pending",
      "run running",
      "node d waiting",
      "run waiting",
      "run running",
      "node d succeeded",
      "run succeeded",
    ]);
  });

  it("a failed run records its status, error and timestamps", async () => {
    const { finished, events } = await run([
      { name: "ok", config: http("/ok") },
      { name: "bad", type: "transform", config: { expression: "$now()" } },
    ]);
    expect(finished.status).toBe("failed");
    expect(finished.error).toMatchObject({ node: "bad" });
    expect(finished.started_at).not.toBeNull();
    expect(Date.parse(finished.finished_at)).toBeGreaterThanOrEqual(Date.parse(finished.started_at));
    expect(events.map(summary)).toEqual([
      "run pending",
      "run running",
      "node ok succeeded",
      "node bad failed",
      "run failed",
    ]);
  });
});
