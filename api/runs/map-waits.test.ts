/**
 * Maps of delay and wait_for_event on the real stack: saved with per-item templates (a clear 400 otherwise), the
 * items' events signalled over the API to the map's run by their rendered names, item rows and counts as items
 * wait and end, outputs as the plain nodes give them.
 */
import { describe, expect, it } from "vitest";
import { useApiHarness } from "../../test/harness.ts";
import { until, waitForRun } from "../../test/helpers.ts";
import { readRunEvents } from "../../db/run-events.ts";

const h = useApiHarness();
const token = () => h.alice.token;
const itemsOf = async (workflowId: string, runId: string) =>
  (await h.call("GET", `/api/workflows/${workflowId}/runs/${runId}/nodes/each/items`, { token: token() })).body
    .items as { index: number; status: string; attempts: number; output: unknown }[];

describe("maps of delay and wait_for_event", () => {
  it("are saved with templates over the item, and refused with a 400 naming the field otherwise", async () => {
    const wf = await h.createWorkflow();
    const save = (config: Record<string, unknown>) =>
      h.call("POST", `/api/workflows/${wf}/nodes`, {
        token: token(),
        body: { name: `n${Date.now()}`, type: "map", config },
      });
    const ok = await save({ items: "[1]", node: { type: "wait_for_event", config: { event: "ticket.{{item}}" } } });
    expect(ok.status).toBe(201);
    const badEvent = await save({ items: "[1]", node: { type: "wait_for_event", config: { event: "bad name" } } });
    expect(badEvent.status).toBe(400);
    expect(badEvent.body.error.details[0]).toMatchObject({ field: "config.node.config.event" });
    const tooMany = await save({ items: "[1..5000]", node: { type: "wait_for_event", config: { event: "e" } } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.details[0]).toMatchObject({
      field: "config.items",
      message: "a map of wait_for_event takes at most 1000 items",
    });
    const badDelay = await save({ items: "[1]", node: { type: "delay", config: { duration_ms: "soon" } } });
    expect(badDelay.status).toBe(400);
    expect(badDelay.body.error.details[0]).toMatchObject({ field: "config.node.config.duration_ms" });
    expect((await save({ items: "[1]", node: { type: "delay", config: { duration_ms: "{{item}}" } } })).status)
      .toBe(201);
  });

  it("each item waits for the event its name renders to, signalled over the API to the map's run", async () => {
    const { workflowId } = await h.buildWorkflow([{
      name: "each",
      type: "map",
      config: {
        items: "[{'id': 'a'}, {'id': 'b'}, {'id': 'c'}]",
        node: { type: "wait_for_event", config: { event: "ticket.{{item.id}}" } },
        concurrency: 2,
      },
    }]);
    const runId = (await h.execute(workflowId)).body.run_id as string;
    const path = `/api/workflows/${workflowId}/runs/${runId}/signals`;
    // Two wait at a time; the run is waiting.
    await until(() => itemsOf(workflowId, runId), (items) => items.filter((i) => i.status === "running").length === 2);
    const waiting = (await h.call("GET", `/api/workflows/${workflowId}/runs/${runId}`, { token: token() })).body;
    expect(waiting.status).toBe("waiting");
    expect(waiting.node_executions[0].items).toEqual({ total: 3, succeeded: 0, failed: 0, running: 3 });
    expect((await h.call("POST", `${path}/ticket.b`, { token: h.bob.token, body: { data: 1 } })).status).toBe(404);
    for (const id of ["c", "b", "a"]) {
      const sent = await h.call("POST", `${path}/ticket.${id}`, { token: token(), body: { data: { id } } });
      expect(sent.status).toBe(202);
    }
    const run = await waitForRun(h.app, token(), workflowId, runId, 60_000);
    expect(run.status).toBe("succeeded");
    expect(run.output.each.items.map((i: { data: unknown; timed_out: boolean }) => [i.data, i.timed_out])).toEqual([
      [{ id: "a" }, false],
      [{ id: "b" }, false],
      [{ id: "c" }, false],
    ]);
    expect(run.node_executions[0].items).toEqual({ total: 3, succeeded: 3, failed: 0, running: 0 });
    const items = await itemsOf(workflowId, runId);
    expect(items.map((i) => [i.status, i.attempts])).toEqual([["succeeded", 1], ["succeeded", 1], ["succeeded", 1]]);
    expect(items[2].output).toMatchObject({ data: { id: "c" }, timed_out: false });
  }, 120_000);

  it("a timed-out item fails the map; the retry waits again only for the items that did not succeed", async () => {
    const { workflowId } = await h.buildWorkflow([{
      name: "each",
      type: "map",
      config: {
        items: "['a', 'b']",
        node: { type: "wait_for_event", config: { event: "go.{{item}}", timeout_ms: 1500 } },
        concurrency: 2,
      },
    }]);
    const runId = (await h.execute(workflowId)).body.run_id as string;
    const signal = (run: string, id: string) =>
      h.call("POST", `/api/workflows/${workflowId}/runs/${run}/signals/go.${id}`, {
        token: token(),
        body: { data: id },
      });
    expect((await signal(runId, "a")).status).toBe(202);
    const first = await waitForRun(h.app, token(), workflowId, runId, 60_000);
    expect(first.status).toBe("failed");
    expect(first.error.message).toMatch(/1 of 2 items failed/);
    expect(first.node_executions[0].output.failed).toMatchObject([
      { index: 1, error: { type: "EventTimeout", message: 'no "go.b" event within 1500 ms' } },
    ]);
    // Item ends reach the run's event stream.
    const events = (await readRunEvents(h.sql, runId, "0", 100)).filter((e) => e.type === "map_items");
    const ended = events.flatMap((e) => (e.data as { items: { index: number; status: string }[] }).items);
    expect(ended).toEqual(expect.arrayContaining([
      { index: 0, status: "succeeded" },
      expect.objectContaining({ index: 1, status: "failed" }),
    ]));

    const retry = await h.call("POST", `/api/workflows/${workflowId}/runs/${runId}/retry`, { token: token() });
    expect(retry.status).toBe(202);
    const again = retry.body.run_id as string;
    await until(() => itemsOf(workflowId, again), (items) => items[1]?.status === "running");
    expect((await signal(again, "b")).status).toBe(202);
    const second = await waitForRun(h.app, token(), workflowId, again, 60_000);
    expect(second.status).toBe("succeeded");
    expect(second.output.each.items.map((i: { data: string }) => i.data)).toEqual(["a", "b"]);
    // Item a came from the first run (no attempt here); b waited again.
    expect((await itemsOf(workflowId, again)).map((i) => i.attempts)).toEqual([0, 1]);
  }, 120_000);

  it("each item sleeps its own rendered duration", async () => {
    const { workflowId } = await h.buildWorkflow([{
      name: "each",
      type: "map",
      config: { items: "[300, 100, 0]", node: { type: "delay", config: { duration_ms: "{{item}}" } } },
    }]);
    const run = await h.runToEnd(workflowId, {}, h.alice, 60_000);
    expect(run.status).toBe("succeeded");
    expect(run.output.each.items.map((i: { waited_ms: number }) => i.waited_ms)).toEqual([300, 100, 0]);
    expect(run.output.each.failed).toEqual([]);
  }, 60_000);
});
