/**
 * The control-flow nodes (workflows/nodes/) inside runDag, against Temporal's local test server with fake
 * activities: durable delays, events queued by name, sub-workflows as child runs, maps in chunks, error runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunDagInput, type SnapshotNode, type WorkflowSnapshot } from "../core/contract.ts";
import { type FakeActivities, fakeActivities } from "../test/fake-activities.ts";
import { childWorkflows, errorWorkflows } from "../test/fake-control-flow.ts";
import { cause, edge, graph as snapshot, startWorkflowTestEnv, type WorkflowTestEnv } from "../test/workflow-env.ts";
import { eventSignal } from "./nodes/index.ts";
import { MAP_CHUNK_ITEMS } from "./nodes/map.ts";

let stack: WorkflowTestEnv;

beforeAll(async () => {
  stack = await startWorkflowTestEnv("control-nodes-test");
}, 120_000);
afterAll(() => stack?.stop());

let seq = 0;
const newRunId = () => `00000000-0000-4000-9000-${String(++seq).padStart(12, "0")}`;

async function run(
  snapshot: WorkflowSnapshot,
  fakes: FakeActivities,
  extra: Partial<RunDagInput> = {},
  during?: (workflowId: string) => Promise<void>,
) {
  const runId = extra.runId ?? newRunId();
  const out = await stack.runDag(
    snapshot,
    fakes,
    { input: { n: 2 }, ...extra, runId },
    (h) => during?.(h.workflowId) ?? Promise.resolve(),
  );
  return { ...out, runId };
}

const node = (name: string, type: string, config: Record<string, unknown> = {}): SnapshotNode => ({
  id: `id-${name}`,
  name,
  type,
  config,
});
const graph = (nodes: SnapshotNode[], edges: ReturnType<typeof edge>[], workflowId = "wf") =>
  snapshot(nodes, edges, { workflow_id: workflowId });
const signal = (workflowId: string, event: string, data: unknown) =>
  stack.env.client.workflow.getHandle(workflowId).signal(eventSignal, {
    event,
    data,
    received_at: "2026-12-02T08:00:00.000Z",
  });

describe("delay", () => {
  it("waits durably, the run waiting meanwhile, and answers how long it waited", async () => {
    const fakes = fakeActivities({ after: (ctx) => ctx.nodes.pause });
    const g = graph([
      node("pause", "delay", { duration_ms: 300 }),
      node("after", "llm_call", {
        prompt: "{{nodes.pause.output}}",
      }),
    ], [edge("pause", "after")]);
    const { result } = await run(g, fakes);
    expect(result?.output).toEqual({ after: { output: { waited_ms: 300, until: expect.any(String) } } });
    expect(fakes.statuses).toEqual(["waiting", "running"]);
    expect(fakes.controls).toMatchObject([{ node: "pause", status: "succeeded", input: { duration_ms: 300 } }]);
  });

  it("waits until a rendered time; one in the past does not wait", async () => {
    const fakes = fakeActivities({});
    const g = graph([node("until", "delay", { until: "{{input.when}}" })], []);
    const { result } = await run(g, fakes, { input: { when: "2001-01-01T00:00:00Z" } } as never);
    expect(result?.output).toEqual({ until: { waited_ms: 0, until: "2001-01-01T00:00:00.000Z" } });
  });

  it("cancelling the run cancels its timer and records the node as cancelled", async () => {
    const fakes = fakeActivities({});
    const { error } = await run(
      graph([node("long", "delay", { duration_ms: 3_600_000 })], []),
      fakes,
      {},
      async (id) => {
        await waitUntil(() => fakes.statuses.includes("waiting"));
        await stack.env.client.workflow.getHandle(id).cancel();
      },
    );
    expect(error?.cause?.name).toBe("CancelledFailure");
    expect(fakes.controls).toMatchObject([{ node: "long", status: "cancelled" }]);
    expect(fakes.finished).toMatchObject([{ status: "cancelled" }]);
  });
});

describe("wait_for_event", () => {
  it("queues events sent before the node is reached, in order: each wait of that name takes the next", async () => {
    const fakes = fakeActivities({ gate: "wait-for-cancel" });
    const g = graph([
      node("first", "wait_for_event", { event: "go" }),
      node("second", "wait_for_event", { event: "go" }),
    ], [edge("first", "second")]);
    const { result } = await run(g, fakes, {}, async (id) => {
      await signal(id, "go", { n: 1 });
      await signal(id, "other", "ignored");
      await signal(id, "go", { n: 2 });
    });
    expect(result?.output).toEqual({
      second: { data: { n: 2 }, received_at: "2026-12-02T08:00:00.000Z", timed_out: false },
    });
    expect(fakes.controls).toMatchObject([
      { node: "first", status: "succeeded", output: { data: { n: 1 } } },
      { node: "second", status: "succeeded", output: { data: { n: 2 } } },
    ]);
  });

  it("times out: fails the node by default, or goes on with timed_out", async () => {
    const failing = fakeActivities({});
    const { error } = await run(graph([node("w", "wait_for_event", { event: "e", timeout_ms: 50 })], []), failing);
    expect(cause(error)?.message).toBe('node "w" failed: no "e" event within 50 ms');
    expect(failing.controls).toMatchObject([{ node: "w", status: "failed", error: { type: "EventTimeout" } }]);
    const going = fakeActivities({});
    const g = graph([node("w", "wait_for_event", { event: "e", timeout_ms: 50, on_timeout: "continue" })], []);
    const { result } = await run(g, going);
    expect(result?.output).toEqual({ w: { data: null, received_at: null, timed_out: true } });
  });

  it("carries events not yet taken over a continue-as-new", async () => {
    const fakes = fakeActivities({ a: () => "a", b: () => "b" });
    const g = graph([node("a", "llm_call"), node("b", "llm_call"), node("w", "wait_for_event", { event: "e" })], [
      edge("a", "b"),
      edge("b", "w"),
    ]);
    const { result } = await run(g, fakes, { maxHistoryEvents: 1 }, (id) => signal(id, "e", "kept"));
    expect(result?.output).toMatchObject({ w: { data: "kept" } });
    expect(fakes.executions.size).toBeGreaterThan(1);
  });
});

describe("sub_workflow", () => {
  it("runs the child as a run of its own and answers the child's output", async () => {
    childWorkflows.set("child-ok", graph([node("inner", "llm_call", { prompt: "{{input.x}}" })], [], "child-ok"));
    const fakes = fakeActivities({ inner: (ctx) => ({ got: (ctx.input as { x: unknown }).x }) });
    const g = graph([
      node("call", "sub_workflow", { workflow_id: "child-ok", version: "latest", input: { x: "{{input.n}}" } }),
    ], []);
    const { result, runId } = await run(g, fakes);
    expect(result?.output).toEqual({ call: { inner: { got: 2 } } });
    expect(fakes.children).toMatchObject([{ trigger: "sub_workflow", workflowId: "child-ok", input: { x: 2 } }]);
    expect(fakes.controls).toMatchObject([{ node: "call", status: "succeeded", output: { inner: { got: 2 } } }]);
    expect(fakes.finished.map((f) => f.runId)).toEqual([fakes.children[0].runId, runId]);
  });

  it("a failed child fails the node with the child's error; nesting deeper than allowed fails at once", async () => {
    childWorkflows.set("child-bad", graph([node("inner", "llm_call")], [], "child-bad"));
    const fakes = fakeActivities({
      inner: () => {
        throw new Error("model down");
      },
    });
    const { error } = await run(graph([node("call", "sub_workflow", { workflow_id: "child-bad" })], []), fakes);
    expect(cause(error)?.message).toMatch(/^node "call" failed: run .* failed: .*model down/);
    const deep = fakeActivities({});
    const { error: tooDeep } = await run(graph([node("call", "sub_workflow", { workflow_id: "child-ok" })], []), deep, {
      depth: 3,
      maxDepth: 3,
    });
    expect(cause(tooDeep)?.message).toBe('node "call" failed: sub-workflows nest deeper than 3 levels');
    expect(deep.children).toEqual([]);
  });

  it("cancelling the parent cancels the child", async () => {
    childWorkflows.set("child-slow", graph([node("slow", "llm_call")], [], "child-slow"));
    const fakes = fakeActivities({ slow: "wait-for-cancel" });
    const { error } = await run(
      graph([node("call", "sub_workflow", { workflow_id: "child-slow" })], []),
      fakes,
      {},
      async (id) => {
        await fakes.executing("slow");
        await stack.env.client.workflow.getHandle(id).cancel();
      },
    );
    expect(error?.cause?.name).toBe("CancelledFailure");
    expect(fakes.cancelled).toEqual(["slow"]);
    expect(fakes.finished.map((f) => f.status)).toEqual(["cancelled", "cancelled"]);
  });
});

describe("map", () => {
  it("runs a node per item in chunks, in input order, with item and index in the context", async () => {
    const total = MAP_CHUNK_ITEMS * 2 + 3;
    const fakes = fakeActivities({ each: ({ item, index }: never) => `${item}:${index}` } as never);
    const g = graph([node("each", "map", {
      items: `[1..${total}]`,
      node: { type: "transform", config: { expression: "item" } },
      concurrency: 4,
      on_item_failure: "fail",
    })], []);
    const { result } = await run(g, fakes);
    const output = result?.output.each as { items: string[]; failed: unknown[] };
    expect(output.items).toHaveLength(total);
    expect(output.items.slice(0, 2)).toEqual(["1:0", "2:1"]);
    expect(output.failed).toEqual([]);
    expect(fakes.mapChunks.map((c) => c.to - c.from)).toEqual([MAP_CHUNK_ITEMS, MAP_CHUNK_ITEMS, 3]);
    expect(fakes.controls).toMatchObject([{ node: "each", status: "running" }]);
  });

  it("on_item_failure: fail stops the map and fails the node; continue leaves null for failed items", async () => {
    const boom = ({ item }: { item: number }) => {
      if (item === 2) throw new Error("bad item");
      return item * 10;
    };
    const config = {
      items: "{{input.list}}",
      node: { type: "transform", config: { expression: "item" } },
      concurrency: 2,
    };
    const failing = fakeActivities({ each: boom } as never);
    const { error } = await run(graph([node("each", "map", { ...config, on_item_failure: "fail" })], []), failing, {
      input: { list: [1, 2, 3] },
    } as never);
    expect(cause(error)?.message).toBe('node "each" failed: 1 of 3 items failed');
    const going = fakeActivities({ each: boom } as never);
    const { result } = await run(graph([node("each", "map", { ...config, on_item_failure: "continue" })], []), going, {
      input: { list: [1, 2, 3] },
    } as never);
    expect(result?.output).toEqual({
      each: { items: [10, null, 30], failed: [{ index: 1, error: { message: "bad item" } }] },
    });
  });

  it("over a workflow: a child run per item, at most `concurrency` at a time", async () => {
    childWorkflows.set("per-item", graph([node("inner", "llm_call")], [], "per-item"));
    const fakes = fakeActivities({ inner: () => "done" });
    const g = graph([node("each", "map", { items: "[1, 2, 3]", workflow_id: "per-item", concurrency: 2 })], []);
    const { result } = await run(g, fakes);
    expect(result?.status).toBe("succeeded");
    // Two at a time: the order the children start in is the order their inputs came back.
    const inputs = fakes.children.map((c) => c.input as { index: number }).sort((a, b) => a.index - b.index);
    expect(inputs).toEqual([{ item: 1, index: 0 }, { item: 2, index: 1 }, { item: 3, index: 2 }]);
    expect(fakes.children.every((c) => c.trigger === "map")).toBe(true);
  });
});

describe("error workflows", () => {
  it("a failed run starts its error workflow once, from its own workflow; a cancelled or error run starts none", async () => {
    childWorkflows.set("on-error", graph([node("notify", "llm_call")], [], "on-error"));
    const runId = newRunId();
    errorWorkflows.set(runId, "on-error");
    const fakes = fakeActivities({
      bad: () => {
        throw new Error("broken");
      },
      notify: (ctx) => ctx.input,
    });
    const { error } = await run(graph([node("bad", "llm_call")], []), fakes, { runId });
    expect(cause(error)?.message).toMatch(/broken/);
    expect(fakes.children).toMatchObject([{ trigger: "error", workflowId: "on-error" }]);
    await waitUntil(() => fakes.finished.length === 2);
    expect(fakes.finished[1]).toMatchObject({ status: "succeeded", output: { notify: { failed_node: "bad" } } });

    const errorRunId = newRunId();
    errorWorkflows.set(errorRunId, "on-error");
    const again = fakeActivities({
      bad: () => {
        throw new Error("broken too");
      },
    });
    await run(graph([node("bad", "llm_call")], []), again, { runId: errorRunId, errorRun: true });
    expect(again.children).toEqual([]);
  });
});

async function waitUntil(check: () => boolean, ms = 10_000) {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}
