/**
 * A map over a workflow past its batch size (workflows/nodes/map-children.ts, workflows/map-batch.ts): child runs
 * started through mapBatch workflows, the map's concurrency split across them, a failed item under "fail"
 * stopping every batch, and cancelling the map's run reaching every item's child run. Temporal's test server,
 * fake activities.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SnapshotNode, WorkflowSnapshot } from "../core/contract.ts";
import { workflowIds } from "../core/contract.ts";
import { type Behaviour, fakeActivities } from "../test/fake-activities.ts";
import { childWorkflows } from "../test/fake-control-flow.ts";
import { graph as snapshot, startWorkflowTestEnv, type WorkflowTestEnv } from "../test/workflow-env.ts";
import { laneConcurrency } from "./nodes/map-children.ts";

let stack: WorkflowTestEnv;
beforeAll(async () => {
  stack = await startWorkflowTestEnv("map-batches-test");
}, 120_000);
afterAll(() => stack?.stop());

let seq = 0;
const newRunId = () => `00000000-0000-4000-9100-${String(++seq).padStart(12, "0")}`;
const node = (name: string, type: string, config: Record<string, unknown> = {}): SnapshotNode => ({
  id: `id-${name}`,
  name,
  type,
  config,
});
const graph = (nodes: SnapshotNode[], workflowId = "wf"): WorkflowSnapshot =>
  snapshot(nodes, [], { workflow_id: workflowId });
const mapOver = (workflowId: string, extra: Record<string, unknown>) =>
  graph([node("each", "map", { workflow_id: workflowId, ...extra })]);

describe("map over a workflow in batches", () => {
  it("splits the concurrency over the batches running at once", () => {
    expect([0, 1, 2].map((lane) => laneConcurrency(8, 3, lane))).toEqual([3, 3, 2]);
    expect([0, 1].map((lane) => laneConcurrency(2, 2, lane))).toEqual([1, 1]);
    expect(laneConcurrency(1, 1, 0)).toBe(1);
  });

  it("starts every item's child run through mapBatch workflows, at most `concurrency` items at a time", async () => {
    let running = 0;
    let most = 0;
    const inner: Behaviour = async () => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 30));
      running--;
      return "done";
    };
    childWorkflows.set("batched", graph([node("inner", "llm_call")], "batched"));
    const fakes = fakeActivities({ inner });
    const runId = newRunId();
    const { result } = await stack.runDag(
      mapOver("batched", { items: "[10, 11, 12, 13, 14, 15, 16]", concurrency: 3 }),
      fakes,
      { runId, mapBatchItems: 2 },
    );
    expect(result?.status).toBe("succeeded");
    const inputs = fakes.children.map((c) => c.input as { index: number }).sort((a, b) => a.index - b.index);
    expect(inputs).toEqual([10, 11, 12, 13, 14, 15, 16].map((item, index) => ({ item, index })));
    expect(fakes.children.every((c) => c.trigger === "map")).toBe(true);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(3);
    // Four batches of at most two items, each its own workflow, all completed.
    for (let b = 0; b < 4; b++) {
      const batch = await stack.env.client.workflow.getHandle(workflowIds.mapBatch(runId, "id-each", b)).describe();
      expect([batch.type, batch.status.name]).toEqual(["mapBatch", "COMPLETED"]);
    }
    await expect(stack.env.client.workflow.getHandle(workflowIds.mapBatch(runId, "id-each", 4)).describe())
      .rejects.toThrow();
  });

  it('under "fail" a failed item stops the batches after it; under "continue" every item runs', async () => {
    childWorkflows.set("picky", graph([node("inner", "llm_call", { prompt: "{{input.item}}" })], "picky"));
    const inner: Behaviour = (ctx) => {
      if ((ctx.input as { item: number }).item === 1) throw new Error("bad item");
      return "ok";
    };
    const items = "[0, 1, 2, 3, 4, 5]";
    const failing = fakeActivities({ inner });
    // One item per batch, one batch at a time: item 1's batch ends the map's batches.
    const { result } = await stack.runDag(
      mapOver("picky", { items, concurrency: 1, on_item_failure: "fail" }),
      failing,
      { runId: newRunId(), mapBatchItems: 1 },
    );
    expect(result?.status).toBe("succeeded"); // the fake finishMap does not see child outcomes
    expect(failing.children.map((c) => (c.input as { item: number }).item)).toEqual([0, 1]);
    const going = fakeActivities({ inner });
    await stack.runDag(mapOver("picky", { items, concurrency: 1, on_item_failure: "continue" }), going, {
      runId: newRunId(),
      mapBatchItems: 1,
    });
    expect(going.children.map((c) => (c.input as { item: number }).item)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("cancelling the map's run cancels every batch and every item's child run", async () => {
    childWorkflows.set("slow-item", graph([node("slow", "llm_call")], "slow-item"));
    const fakes = fakeActivities({ slow: "wait-for-cancel" });
    const runId = newRunId();
    const { error } = await stack.runDag(
      mapOver("slow-item", { items: "[1, 2, 3, 4]", concurrency: 4 }),
      fakes,
      { runId, mapBatchItems: 2 },
      async (handle) => {
        while (fakes.executed.length < 4) await new Promise((r) => setTimeout(r, 20));
        await handle.cancel();
      },
    );
    expect(error?.cause?.name).toBe("CancelledFailure");
    expect(fakes.cancelled).toEqual(["slow", "slow", "slow", "slow"]);
    // The four child runs and the map's run, each recorded as cancelled (the final write is a local activity:
    // at least once, so a run whose workflow task was retried under load may record its end twice, the same).
    expect(fakes.finished.every((f) => f.status === "cancelled")).toBe(true);
    expect(new Set(fakes.finished.map((f) => f.runId)).size).toBe(5);
    for (const b of [0, 1]) {
      const batch = await stack.env.client.workflow.getHandle(workflowIds.mapBatch(runId, "id-each", b)).describe();
      expect(batch.status.name).toBe("CANCELLED");
    }
  });
});
