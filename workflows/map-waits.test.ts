/**
 * A map whose per-item node is a delay or a wait_for_event (workflows/nodes/map-waits.ts): timers and events in
 * the map's own workflow, `concurrency` at a time, each item's output as the plain node gives it. Temporal's test
 * server, fake activities.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_MAP_WAIT_ITEMS } from "../core/control-nodes.ts";
import type { SnapshotNode } from "../core/contract.ts";
import { fakeActivities } from "../test/fake-activities.ts";
import { cause, graph, startWorkflowTestEnv, type WorkflowTestEnv } from "../test/workflow-env.ts";
import { eventSignal } from "./nodes/index.ts";

let stack: WorkflowTestEnv;
beforeAll(async () => {
  stack = await startWorkflowTestEnv("map-waits-test");
}, 120_000);
afterAll(() => stack?.stop());

const mapNode = (config: Record<string, unknown>): SnapshotNode => ({
  id: "id-each",
  name: "each",
  type: "map",
  config,
});
const send = (workflowId: string, event: string, data: unknown) =>
  stack.env.client.workflow.getHandle(workflowId).signal(eventSignal, {
    event,
    data,
    received_at: "2026-12-02T08:00:00.000Z",
  });
/** Resolves once `n` items have been recorded as started. */
const started = async (fakes: ReturnType<typeof fakeActivities>, n: number) => {
  while (fakes.mapItemRecords.flat().filter((r) => r.status === "running").length < n) {
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("map of delay", () => {
  it("waits per item (duration or time rendered from the item), in input order, the run waiting meanwhile", async () => {
    const fakes = fakeActivities({});
    const { result } = await stack.runDag(
      graph([mapNode({
        items: "{{input.list}}",
        node: { type: "delay", config: { duration_ms: "{{item}}" } },
        concurrency: 2,
        on_item_failure: "fail",
      })], []),
      fakes,
      { input: { list: [300, 50, 0] } },
    );
    const output = result?.output.each as { items: { waited_ms: number; until: string }[]; failed: unknown[] };
    expect(output.items.map((i) => i.waited_ms)).toEqual([300, 50, 0]);
    expect(output.items.every((i) => !Number.isNaN(Date.parse(i.until)))).toBe(true);
    expect(output.failed).toEqual([]);
    expect(fakes.statuses).toEqual(["waiting", "running"]);
    // Two at a time: item 2 starts only once item 1 (the shorter) ended, while item 0 still waits.
    const order = fakes.mapItemRecords.flat().map((r) => `${r.index}:${r.status}`);
    expect(order.indexOf("2:running")).toBeGreaterThan(order.indexOf("1:succeeded"));
    expect(order.indexOf("2:running")).toBeLessThan(order.indexOf("0:succeeded"));
    // Records go many items a call: fewer calls than item changes.
    expect(fakes.mapItemRecords.length).toBeLessThan(order.length);

    const bad = fakeActivities({});
    const { result: result2 } = await stack.runDag(
      graph([mapNode({
        items: "['soon', '2026-01-01T00:00:00Z']",
        node: { type: "delay", config: { until: "{{item}}" } },
        concurrency: 2,
        on_item_failure: "continue",
      })], []),
      bad,
    );
    expect(result2?.output.each).toMatchObject({
      items: [null, { waited_ms: 0, until: "2026-01-01T00:00:00.000Z" }],
      failed: [{ index: 0, error: { message: 'until rendered to "soon", which is not an ISO 8601 time' } }],
    });
  });

  it(
    "costs the history a few events an item, so MAX_MAP_WAIT_ITEMS items stay far inside Temporal's limit",
    async () => {
      // One at a time, the worst case: every item is a timer, a workflow task and a record of its own.
      const items = 20;
      const fakes = fakeActivities({});
      const { result, handle } = await stack.runDag(
        graph([
          mapNode({ items: `[1..${items}]`, node: { type: "delay", config: { duration_ms: 1 } }, concurrency: 1 }),
        ], []),
        fakes,
      );
      expect((result?.output.each as { items: unknown[] }).items).toHaveLength(items);
      const events = (await handle.describe()).historyLength;
      const perItem = events / items;
      console.log(`map of ${items} delay items, concurrency 1: ${events} history events (${perItem} an item)`);
      expect(perItem * MAX_MAP_WAIT_ITEMS).toBeLessThan(12_000);
    },
    120_000,
  );

  it("refuses more than MAX_MAP_WAIT_ITEMS items, before any waits", async () => {
    const fakes = fakeActivities({});
    const { error } = await stack.runDag(
      graph([mapNode({
        items: `[1..${MAX_MAP_WAIT_ITEMS + 1}]`,
        node: { type: "delay", config: { duration_ms: 1 } },
        concurrency: 8,
      })], []),
      fakes,
    );
    expect(cause(error)?.message).toMatch(/a map of delay takes at most 1000 items \(got 1001\)/);
    expect(fakes.mapItemRecords).toEqual([]);
  });
});

describe("map of wait_for_event", () => {
  it("each item takes the event its name renders to, sent before or while it waits; outputs in input order", async () => {
    const fakes = fakeActivities({});
    const { result } = await stack.runDag(
      graph([mapNode({
        items: "[{'id': 'a'}, {'id': 'b'}, {'id': 'c'}]",
        node: { type: "wait_for_event", config: { event: "ticket.{{item.id}}", on_timeout: "fail" } },
        concurrency: 2,
      })], []),
      fakes,
      {},
      async (handle) => {
        // c's event comes before c waits (two at a time): it is queued for it.
        await send(handle.workflowId, "ticket.c", { n: 3 });
        await started(fakes, 2);
        await send(handle.workflowId, "ticket.b", { n: 2 });
        await send(handle.workflowId, "ticket.a", { n: 1 });
      },
    );
    const output = result?.output.each as { items: { data: unknown; timed_out: boolean }[] };
    expect(output.items.map((i) => i.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(output.items.every((i) => i.timed_out === false)).toBe(true);
  });

  it('a timed-out item fails the map under "fail", or answers timed_out under on_timeout "continue"', async () => {
    const config = (onTimeout: string) => ({
      items: "['x', 'y']",
      node: { type: "wait_for_event", config: { event: "go.{{item}}", timeout_ms: 300, on_timeout: onTimeout } },
      concurrency: 2,
    });
    const failing = fakeActivities({});
    const { error } = await stack.runDag(graph([mapNode(config("fail"))], []), failing, {}, async (handle) => {
      await send(handle.workflowId, "go.x", "ok");
    });
    expect(cause(error)?.message).toBe('node "each" failed: 1 of 2 items failed');
    expect(failing.mapItemRecords.flat()).toContainEqual({ index: 1, status: "failed" });
    const going = fakeActivities({});
    const { result } = await stack.runDag(graph([mapNode(config("continue"))], []), going, {}, async (handle) => {
      await send(handle.workflowId, "go.x", "ok");
    });
    expect((result?.output.each as { items: unknown[] }).items).toMatchObject([
      { data: "ok", timed_out: false },
      { data: null, received_at: null, timed_out: true },
    ]);
  });

  it("cancelling the run ends the waiting items and records the map as cancelled", async () => {
    const fakes = fakeActivities({});
    const { error } = await stack.runDag(
      graph([
        mapNode({ items: "[1, 2, 3]", node: { type: "wait_for_event", config: { event: "never" } }, concurrency: 3 }),
      ], []),
      fakes,
      {},
      async (handle) => {
        await started(fakes, 3);
        await handle.cancel();
      },
    );
    expect(error?.cause?.name).toBe("CancelledFailure");
    expect(fakes.controls).toMatchObject([{ node: "each", status: "cancelled" }]);
    expect(fakes.finished.map((f) => f.status)).toEqual(["cancelled"]);
  });
});
