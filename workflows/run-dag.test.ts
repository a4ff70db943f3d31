/**
 * runDag's own logic against Temporal's local test server with fake activities: no PostgreSQL, no HTTP, no Weft
 * worker. The server is the installed `temporal` CLI (scripts/setup.sh), started on a free port for this file.
 */
import { ApplicationFailure } from "@temporalio/client";
import type { TestWorkflowEnvironment } from "@temporalio/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SnapshotNode } from "../core/contract.ts";
import { approveUpdate } from "./approvals.ts";
import { LOCAL_TASK_BUDGET_BYTES } from "./local-budget.ts";
import { fakeActivities } from "../test/fake-activities.ts";
import { cause, edge, graph, startWorkflowTestEnv, type WorkflowTestEnv } from "../test/workflow-env.ts";

let env: TestWorkflowEnvironment;
let stack: WorkflowTestEnv;

beforeAll(async () => {
  stack = await startWorkflowTestEnv("run-dag-test");
  env = stack.env;
}, 120_000);
afterAll(() => stack?.stop());

const run: WorkflowTestEnv["runDag"] = (...args) => stack.runDag(...args);

const node = (name: string, type = "llm_call", config: Record<string, unknown> = {}): SnapshotNode => ({
  id: `id-${name}`,
  name,
  type,
  config: { retry: { max_attempts: 1 }, ...config },
});
/** A node whose config reads `nodes.<from>.output`, so its context holds that output. */
const reads = (name: string, from: string) => node(name, "llm_call", { prompt: `{{ nodes.${from}.output }}` });

describe("runDag", () => {
  it("passes outputs downstream, takes only edges whose condition holds and skips the rest", async () => {
    const fakes = fakeActivities({ a: () => ({ go: "b" }), b: (ctx) => ({ saw: ctx.nodes }), d: () => "d" });
    const g = graph(
      [node("a"), reads("b", "a"), node("c"), node("d")],
      [edge("a", "b", 'nodes.a.output.go = "b"'), edge("a", "c", 'nodes.a.output.go = "c"'), edge("c", "d")],
    );
    const { result } = await run(g, fakes);
    expect(result).toEqual({ status: "succeeded", output: { b: { saw: { a: { output: { go: "b" } } } } } });
    expect(fakes.executed).toEqual(["a", "b"]);
    expect(fakes.outcomes.map((o) => `${o.node_name}:${o.status}`)).toEqual(["c:skipped", "d:skipped"]);
    expect(fakes.finished).toMatchObject([{ status: "succeeded" }]);
  });

  it("a condition that fails to evaluate fails the run and is not taken", async () => {
    const fakes = fakeActivities({ a: () => 1 });
    const { error } = await run(graph([node("a"), node("b")], [edge("a", "b", "$boom(")]), fakes);
    expect(cause(error)?.type).toBe("NodeFailed");
    expect(cause(error)?.message).toMatch(/^condition on the edge into "b" failed/);
    expect(fakes.executed).toEqual(["a"]);
  });

  it("fail_fast: a failure cancels running siblings, starts nothing more and fails the run", async () => {
    const fakes = fakeActivities({ bad: () => fail("no"), slow: "wait-for-cancel", after: () => 1 });
    const g = graph([node("bad"), node("slow"), node("after")], [edge("bad", "after")]);
    const { error } = await run(g, fakes);
    expect(cause(error)?.type).toBe("NodeFailed");
    expect(cause(error)?.message).toBe('node "bad" failed: no');
    expect(fakes.cancelled).toEqual(["slow"]);
    expect(fakes.executed).not.toContain("after");
    expect(fakes.finished).toMatchObject([{ status: "failed", error: { node: "bad" } }]);
  });

  it("continue: independent branches finish, what depended on the failure is skipped", async () => {
    const fakes = fakeActivities({ bad: () => fail("no"), ok: () => "fine", after: () => 1 });
    const g = graph([node("bad"), node("ok"), node("after")], [edge("bad", "after")], { on_failure: "continue" });
    const { error } = await run(g, fakes);
    expect(cause(error)?.message).toBe('node "bad" failed: no');
    expect(fakes.executed.sort()).toEqual(["bad", "ok"]);
    expect(fakes.outcomes).toMatchObject([{ node_name: "after", status: "skipped" }]);
    expect(fakes.finished).toMatchObject([{ status: "failed", output: { ok: "fine" } }]);
  });

  it("starts groupable siblings that do not run locally as one group activity; each keeps its outcome", async () => {
    const fakes = fakeActivities({ root: () => 0, t1: () => "one", t2: () => fail("two"), t3: () => "three" });
    const g = graph(
      [node("root"), node("t1", "db_write"), node("t2", "http_request"), node("t3", "http_request"), node("x")],
      [edge("root", "t1"), edge("root", "t2"), edge("root", "t3"), edge("t2", "x")],
      { on_failure: "continue" },
    );
    const { error } = await run(g, fakes);
    expect(fakes.groups).toEqual([["t1", "t2", "t3"]]);
    expect(cause(error)?.message).toBe('node "t2" failed: two');
    expect(fakes.finished).toMatchObject([{ status: "failed", output: { t1: "one", t3: "three" } }]);
    expect(fakes.outcomes).toMatchObject([{ node_name: "x", status: "skipped" }]);
  });

  it("starts short siblings as parallel local activities, and long ones of the same fan-out as a group", async () => {
    const fakes = fakeActivities({});
    const short = { timeout_ms: 5000 };
    const g = graph(
      [
        node("root"),
        node("t1", "transform"),
        node("h1", "http_request", short),
        node("h2", "http_request"),
        node("h3", "http_request"),
        node("d1", "db_write", { ...short, durable_step: true }),
      ],
      ["t1", "h1", "h2", "h3", "d1"].map((n) => edge("root", n)),
    );
    const { result } = await run(g, fakes);
    expect(result?.status).toBe("succeeded");
    expect(fakes.groups).toEqual([["h2", "h3", "d1"]]);
    expect([...fakes.executed].sort()).toEqual(["d1", "h1", "h2", "h3", "root", "t1"]);
  });

  it("bounds what one workflow task carries back from local nodes: past the budget a node runs as an activity", async () => {
    // 160 transforms in a chain, each answering 15 KB: ~2.5 MB of local results, more than one task may carry.
    const names = Array.from({ length: 160 }, (_, i) => `t${i}`);
    const fakes = fakeActivities(Object.fromEntries(names.map((n) => [n, () => "x".repeat(15_000)])));
    const g = graph(
      names.map((n) => node(n, "transform")),
      names.slice(1).map((n, i) => edge(names[i], n)),
    );
    const { result, handle } = await run(g, fakes);
    expect(result?.status).toBe("succeeded");
    expect(fakes.executed).toEqual(names);
    const { events } = await handle.fetchHistory();
    const kinds = events!.map((e) =>
      e.markerRecordedEventAttributes?.markerName === "core_local_activity"
        ? "local"
        : e.activityTaskScheduledEventAttributes
        ? "activity"
        : e.workflowTaskCompletedEventAttributes
        ? "task"
        : "other"
    );
    // Some nodes ran as regular activities, and no task completed with more local results than the budget allows.
    expect(kinds.filter((k) => k === "activity").length).toBeGreaterThan(0);
    const perTask = kinds.join(" ").split("task").map((part) => part.split("local").length - 1);
    // Every node once, locally or not; the one more local activity is the run's final bookkeeping.
    expect(perTask.reduce((a, b) => a + b, 0) + kinds.filter((k) => k === "activity").length).toBe(161);
    expect(Math.max(...perTask)).toBeLessThanOrEqual(Math.floor(LOCAL_TASK_BUDGET_BYTES / 16_000));
    expect(Math.max(...perTask)).toBeGreaterThan(50);
  });

  it("reuses outputs handed over from an earlier run without executing those nodes", async () => {
    const fakes = fakeActivities({ b: (ctx) => ctx.nodes.a });
    const g = graph([node("a"), reads("b", "a")], [edge("a", "b")]);
    const { result } = await run(g, fakes, { reuse: { "id-a": "old" } });
    expect(result?.output).toEqual({ b: { output: "old" } });
    expect(fakes.executed).toEqual(["b"]);
    expect(fakes.outcomes).toMatchObject([{ node_name: "a", status: "reused", output: "old" }]);
  });

  it("continues as new when the history grows, carrying large outputs by reference", async () => {
    const big = "x".repeat(2000);
    const fakes = fakeActivities({ a: () => big, b: (ctx) => ctx.nodes.a, c: (ctx) => ctx.nodes.a });
    const g = graph([node("a"), reads("b", "a"), reads("c", "a")], [edge("a", "b"), edge("a", "c")], {
      max_parallel: 1,
    });
    const { result, handle } = await run(g, fakes, { maxHistoryEvents: 1 });
    expect(fakes.executed).toEqual(["a", "b", "c"]);
    const ref = { output: { $weft_ref: { run_id: expect.any(String), node_id: "id-a", bytes: big.length + 2 } } };
    expect(result?.output).toEqual({ b: ref, c: ref });
    // One execution per batch of work, finished once; no execution makes a call just to mark the run started.
    expect(fakes.executions.size).toBe(3);
    expect(fakes.started).toBe(0);
    expect(fakes.finished).toHaveLength(1);
    const desc = await env.client.workflow.getHandle(handle.workflowId).describe();
    expect(desc.runId).not.toBe(handle.firstExecutionRunId);
  });

  it("waits for an approval, refuses a decision for a node that is not waiting, and goes on with the decision", async () => {
    const fakes = fakeActivities({ after: (ctx) => ctx.nodes.review });
    const g = graph([node("review", "approval", { message: "ok?" }), reads("after", "review")], [
      edge("review", "after"),
    ]);
    const { result } = await run(g, fakes, {}, async (h) => {
      const handle = env.client.workflow.getHandle(h.workflowId);
      await fakes.waitingFor("review");
      await expect(handle.executeUpdate(approveUpdate, { args: [{ node_name: "after", approved: true }] }))
        .rejects.toMatchObject({ cause: { message: 'node "after" is not waiting for approval' } });
      await handle.executeUpdate(approveUpdate, { args: [{ node_name: "review", approved: true, decided_by: "ann" }] });
    });
    const decision = { approved: true, data: null, decided_by: "ann", timed_out: false };
    expect(result?.output).toEqual({ after: { output: decision } });
    expect(fakes.statuses).toEqual(["waiting", "running"]);
    expect(fakes.approvals).toEqual([{ node: "review", input: { message: "ok?" }, status: "succeeded" }]);
  });

  it("applies the default decision when an approval times out, and a rejection fails the run", async () => {
    const fakes = fakeActivities({});
    const g = graph([node("review", "approval", { timeout_ms: 50 }), node("after")], [edge("review", "after")]);
    const { error } = await run(g, fakes);
    expect(cause(error)?.message).toBe('node "review" failed: no decision before the timeout; rejected by default');
    expect(fakes.approvals).toEqual([{ node: "review", input: { message: null }, status: "failed" }]);
    expect(fakes.executed).toEqual([]);
  });

  it("cancelling the run cancels running nodes and records the run as cancelled", async () => {
    const fakes = fakeActivities({ slow: "wait-for-cancel" });
    const { error } = await run(graph([node("slow")], []), fakes, {}, async (h) => {
      await fakes.executing("slow");
      await env.client.workflow.getHandle(h.workflowId).cancel();
    });
    expect(error?.cause?.name).toBe("CancelledFailure");
    expect(fakes.cancelled).toEqual(["slow"]);
    expect(fakes.finished).toMatchObject([{ status: "cancelled" }]);
  });
});

function fail(message: string): never {
  throw ApplicationFailure.nonRetryable(message, "InvalidConfig");
}
