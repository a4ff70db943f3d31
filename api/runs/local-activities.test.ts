/**
 * Short nodes as Temporal local activities, through the API and in Temporal's history: which nodes run locally
 * (`execution` per node execution), and that retries, Retry-After, timeouts and cancellation keep their meaning.
 */
import { describe, expect, it } from "vitest";
import { decodeOptionalSinglePayload } from "@temporalio/common/lib/internal-non-workflow";
import proto from "@temporalio/proto";
import { json, temporalFinalStatus } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";

type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
const hits = new Map<string, number>();

const t = useApiHarness({
  upstream: (req, _body, res) => {
    const url = new URL(req.url!, "http://x");
    const key = url.pathname + (url.searchParams.get("key") ?? "");
    const seen = (hits.get(key) ?? 0) + 1;
    hits.set(key, seen);
    const answer = () => {
      // /flaky?fail=n: the first n requests of a key answer 503; /limited?after=s: the first answers 429 with
      // Retry-After: s.
      if (url.pathname === "/flaky" && seen <= Number(url.searchParams.get("fail"))) {
        return json(res, 503, { error: "busy" });
      }
      if (url.pathname === "/limited" && seen === 1) {
        return json(res, 429, { error: "slow down" }, { "retry-after": url.searchParams.get("after")! });
      }
      json(res, 200, { path: url.pathname, seen });
    };
    const ms = Number(url.searchParams.get("ms") ?? 0);
    if (ms) setTimeout(answer, ms);
    else answer();
  },
});

type Exec = {
  node_name: string;
  attempt: number;
  status: string;
  execution: string | null;
  started_at: string;
  finished_at: string;
};
const key = () => crypto.randomUUID();
const short = (path: string, extra: Record<string, unknown> = {}) => ({
  url: `${t.upstream.url}${path}`,
  timeout_ms: 5000,
  ...extra,
});

/**
 * The workflow's whole history. The run's row says it ended before its last workflow task completes (the final
 * write is a local activity inside that task, with the last nodes' markers), so wait for the workflow to close.
 */
async function history(workflowId: string): Promise<HistoryEvent[]> {
  const handle = t.temporal.workflow.getHandle(workflowId);
  await handle.result().catch(() => {});
  return (await handle.fetchHistory()).events ?? [];
}
const isLocalMarker = (e: HistoryEvent) => e.markerRecordedEventAttributes?.markerName === "core_local_activity";
/** The summary of a local activity's marker, decoded as the Temporal UI shows it (payloads are encrypted). */
const summaryOf = (e: HistoryEvent) =>
  decodeOptionalSinglePayload<string>(t.temporal.options.loadedDataConverter, e.userMetadata?.summary);

describe("which nodes run locally", () => {
  it("records execution per node: short nodes local, long or durable_step nodes activities", async () => {
    const { workflowId } = await t.buildWorkflow([
      { name: "shape", type: "transform", config: { expression: '{"x": input.x * 2}' } },
      { name: "quick", config: short("/quick") },
      { name: "slow_default", config: { url: `${t.upstream.url}/default` } },
      { name: "durable", config: short("/durable", { durable_step: true }) },
      { name: "sum", type: "transform", config: { expression: "nodes.shape.output.x + nodes.quick.output.body.seen" } },
    ]);
    const run = await t.runToEnd(workflowId, { x: 21 });
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded");
    expect(run.output.sum).toBe(43);
    const executions = Object.fromEntries(run.node_executions.map((e: Exec) => [e.node_name, e.execution]));
    expect(executions).toEqual({
      shape: "local",
      quick: "local",
      slow_default: "activity",
      durable: "activity",
      sum: "local",
    });

    const events = await history(run.temporal.workflow_id);
    // Only the two long nodes were activity tasks; the others are local-activity markers with their summary.
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes);
    expect(scheduled.map((e) => e.activityTaskScheduledEventAttributes!.activityId)).toEqual([
      "slow_default",
      "durable",
    ]);
    // Bookkeeping's local activities have no summary; the nodes' do.
    const all = events.filter(isLocalMarker);
    const summaryList = await Promise.all(all.map(summaryOf));
    const markers = all.filter((_, i) => summaryList[i]);
    const summaries = summaryList.filter(Boolean);
    expect(summaries).toEqual([
      "shape (transform) · local",
      "quick (http_request) · local",
      "sum (transform) · local",
    ]);
    // Consecutive local nodes ran in one workflow task: no workflow task completed between their markers.
    const between = events.slice(events.indexOf(markers[0]), events.indexOf(markers[1]));
    expect(between.map((e) => e.eventType)).not.toContain(
      proto.temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    );
  });

  it("runs short siblings as parallel local activities, not as one group activity", async () => {
    const { workflowId } = await t.buildWorkflow(
      [
        { name: "start", type: "transform", config: { expression: "1" } },
        { name: "a", config: short("/a", { query: { ms: "300" } }) },
        { name: "b", config: short("/b", { query: { ms: "300" } }) },
        { name: "c", type: "transform", config: { expression: "2" } },
      ],
      [["start", "a"], ["start", "b"], ["start", "c"]],
    );
    const run = await t.runToEnd(workflowId);
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded");
    expect(run.node_executions.map((e: Exec) => e.execution)).toEqual(["local", "local", "local", "local"]);
    const byName = Object.fromEntries(run.node_executions.map((e: Exec) => [e.node_name, e]));
    // a and b overlapped: both 300 ms requests ran at once.
    expect(Date.parse(byName.a.started_at)).toBeLessThan(Date.parse(byName.b.finished_at));
    expect(Date.parse(byName.b.started_at)).toBeLessThan(Date.parse(byName.a.finished_at));
    const events = await history(run.temporal.workflow_id);
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
  });

  it("refuses a durable_step that is not a boolean with a 400, and documents it", async () => {
    const workflowId = await t.createWorkflow();
    const bad = await t.call("POST", `/api/workflows/${workflowId}/nodes`, {
      token: t.alice.token,
      body: { name: "n", type: "transform", config: { expression: "1", durable_step: "yes" } },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toContain("durable_step must be true or false");
    const nodes = await t.call("GET", `/api/workflows/${workflowId}/nodes`, { token: t.alice.token });
    expect(nodes.body.items ?? nodes.body).toHaveLength(0);
    const doc = await t.call("GET", "/openapi.json");
    const schemas = doc.body.components.schemas;
    expect(schemas.NodeExecution.properties.execution.enum).toEqual(expect.arrayContaining(["local", "activity"]));
    expect(JSON.stringify(schemas.CreateNode)).toContain("durable_step");
  });
});

describe("semantics of a local node", () => {
  it("retries with the node's policy: each attempt is its own row, all local", async () => {
    const k = key();
    const { workflowId } = await t.buildWorkflow([{
      name: "flaky",
      config: short(`/flaky?key=${k}&fail=2`, { retry: { max_attempts: 3, initial_interval_ms: 50 } }),
    }]);
    const run = await t.runToEnd(workflowId);
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded");
    expect(run.node_executions.map((e: Exec) => [e.attempt, e.status, e.execution])).toEqual([
      [1, "failed", "local"],
      [2, "failed", "local"],
      [3, "succeeded", "local"],
    ]);
    expect(hits.get(`/flaky${k}`)).toBe(3);
  });

  it("honours Retry-After; a wait past the local retry threshold becomes a Temporal timer", async () => {
    for (const after of [1, 6]) {
      const k = key();
      const { workflowId } = await t.buildWorkflow([{
        name: "limited",
        config: short(`/limited?key=${k}&after=${after}`, { retry: { max_attempts: 3, initial_interval_ms: 10 } }),
      }]);
      const run = await t.runToEnd(workflowId, {}, undefined, 60_000);
      expect(run.status, JSON.stringify(run.error)).toBe("succeeded");
      const [first, second] = run.node_executions as Exec[];
      expect([first.status, second.status, second.execution]).toEqual(["failed", "succeeded", "local"]);
      const waited = Date.parse(second.started_at) - Date.parse(first.finished_at);
      expect(waited).toBeGreaterThanOrEqual(after * 1000 - 150);
      const timers = (await history(run.temporal.workflow_id)).filter((e) => e.timerStartedEventAttributes);
      expect(timers.length).toBe(after > 5 ? 1 : 0);
    }
  }, 60_000);

  it("enforces timeout_ms: the attempt fails as a Timeout", async () => {
    const { workflowId } = await t.buildWorkflow([{
      name: "slow",
      config: short("/slow?ms=3000", { timeout_ms: 300, retry: { max_attempts: 1 } }),
    }]);
    const began = Date.now();
    const run = await t.runToEnd(workflowId);
    expect(Date.now() - began).toBeLessThan(2500);
    expect(run.status).toBe("failed");
    expect(run.node_executions).toMatchObject([
      { node_name: "slow", status: "failed", execution: "local", error: { type: "Timeout" } },
    ]);
  });

  it("fail_fast cancels a running local sibling at once: it is recorded cancelled", async () => {
    const { workflowId } = await t.buildWorkflow(
      [
        { name: "start", type: "transform", config: { expression: "1" } },
        { name: "slow", config: short("/sibling?ms=6000") },
        { name: "broken", config: short("/flaky?fail=99", { query: { ms: "300" }, retry: { max_attempts: 1 } }) },
      ],
      [["start", "slow"], ["start", "broken"]],
    );
    const began = Date.now();
    const run = await t.runToEnd(workflowId);
    // The workflow cancels its own local activity in the same workflow task: no wait for a heartbeat.
    expect(Date.now() - began).toBeLessThan(4000);
    expect(run.status).toBe("failed");
    const byName = Object.fromEntries(run.node_executions.map((e: Exec) => [e.node_name, e]));
    expect(byName.broken).toMatchObject({ status: "failed", execution: "local" });
    expect(byName.slow).toMatchObject({ status: "cancelled", execution: "local" });
  });

  it("cancelling the run mid local node records the node cancelled and ends the run cancelled", async () => {
    const { workflowId } = await t.buildWorkflow([
      { name: "slow", config: short("/cancel?ms=9900", { timeout_ms: 10_000 }) },
      { name: "next", type: "transform", config: { expression: "1" } },
    ]);
    const started = (await t.execute(workflowId)).body;
    const runPath = `/api/workflows/${workflowId}/runs/${started.run_id}`;
    for (let i = 0; i < 100; i++) {
      const r = await t.call("GET", runPath, { token: t.alice.token });
      if (r.body.node_executions.some((e: Exec) => e.status === "running")) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const began = Date.now();
    expect((await t.call("POST", `${runPath}/cancel`, { token: t.alice.token })).status).toBe(202);
    let run;
    do {
      run = (await t.call("GET", runPath, { token: t.alice.token })).body;
      await new Promise((r) => setTimeout(r, 100));
    } while (!["cancelled", "failed", "succeeded"].includes(run.status));
    // The cancellation reaches the workflow when its task is next completed: a workflow task that runs a local
    // activity is heartbeated by the SDK at 80% of its 10 s timeout, so within ~8 s, before the request ends.
    expect(Date.now() - began, JSON.stringify(run.node_executions)).toBeLessThan(9900);
    expect(run.status).toBe("cancelled");
    expect(run.node_executions).toMatchObject([{ node_name: "slow", status: "cancelled", execution: "local" }]);
    expect((await temporalFinalStatus(t.temporal, started.temporal.workflow_id)).status.name).toBe("CANCELLED");
  });
});
