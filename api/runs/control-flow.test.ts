/**
 * Control-flow nodes through the API on the real stack: save-time checks, events sent to a run, maps (item rows,
 * counts, the items endpoint, retry of failed items only), sub-workflows as linked child runs, error workflows.
 */
import { describe, expect, it } from "vitest";
import { useApiHarness } from "../../test/harness.ts";
import { json, until, waitForRun } from "../../test/helpers.ts";
import { readRunEvents } from "../../db/run-events.ts";

let failBelow = 0;
const h = useApiHarness({
  upstream: (req, _body, res) => {
    if (req.url?.startsWith("/list")) return json(res, 200, { list: ["alpha", "beta", "gamma"] });
    const n = Number(new URL(req.url!, "http://x").searchParams.get("n"));
    if (req.url?.startsWith("/flaky") && n < failBelow) return json(res, 400, { error: "bad item" });
    return json(res, 200, { n });
  },
});

const node = (workflowId: string, body: Record<string, unknown>) =>
  h.call("POST", `/api/workflows/${workflowId}/nodes`, { token: h.alice.token, body });
const runOf = (workflowId: string, runId: string) =>
  h.call("GET", `/api/workflows/${workflowId}/runs/${runId}`, { token: h.alice.token });

const waitForStatus = (workflowId: string, runId: string, status: string) =>
  until(async () => (await runOf(workflowId, runId)).body, (run) => run.status === status);

describe("control-flow nodes at save", () => {
  it("refuses bad configs with a 400 naming the field, and a workflow that is not the owner's", async () => {
    const wf = await h.createWorkflow();
    const approvalPerItem = await node(wf, {
      name: "each",
      type: "map",
      config: { items: "[1]", node: { type: "approval", config: {} } },
    });
    expect(approvalPerItem.status).toBe(400);
    expect(approvalPerItem.body.error.details[0]).toMatchObject({ field: "config.node.type" });
    const badEvent = await node(wf, { name: "w", type: "wait_for_event", config: { event: "not ok!" } });
    expect(badEvent.body.error.details[0]).toMatchObject({ field: "config.event" });
    const bobs = await h.createWorkflow(undefined, h.bob);
    const other = await node(wf, { name: "call", type: "sub_workflow", config: { workflow_id: bobs } });
    expect(other.status).toBe(400);
    expect(other.body.error.message).toMatch(/config.workflow_id: there is no workflow/);
    const self = await h.call("PUT", `/api/workflows/${wf}`, {
      token: h.alice.token,
      body: { error_workflow_id: wf },
    });
    expect(self.status).toBe(400);
    expect(self.body.error.message).toBe("a workflow cannot be its own error workflow");
  });

  it("validate reports a map over a workflow that no longer exists", async () => {
    const child = await h.createWorkflow();
    const wf = await h.createWorkflow();
    expect((await node(wf, { name: "each", type: "map", config: { items: "[1]", workflow_id: child } })).status)
      .toBe(201);
    await h.call("DELETE", `/api/workflows/${child}`, { token: h.alice.token });
    const validation = await h.call("GET", `/api/workflows/${wf}/validate`, { token: h.alice.token });
    expect(validation.body.valid).toBe(false);
    expect(validation.body.errors[0].message).toMatch(/"each": config.workflow_id: there is no workflow/);
  });
});

describe("events sent to a run", () => {
  it("202 to a waiting run, which takes it; 409 once the run has ended; 400 for a bad name; 404 for another owner", async () => {
    const { workflowId } = await h.buildWorkflow([
      { name: "wait", type: "wait_for_event", config: { event: "approved" } },
    ]);
    const runId = (await h.execute(workflowId)).body.run_id as string;
    const waiting = await waitForStatus(workflowId, runId, "waiting");
    expect(waiting.node_executions).toMatchObject([{ node_name: "wait", status: "waiting" }]);
    const path = `/api/workflows/${workflowId}/runs/${runId}/signals`;
    expect((await h.call("POST", `${path}/approved`, { token: h.bob.token, body: {} })).status).toBe(404);
    expect((await h.call("POST", `${path}/bad!name`, { token: h.alice.token, body: {} })).status).toBe(400);
    const sent = await h.call("POST", `${path}/approved`, { token: h.alice.token, body: { data: { by: "ops" } } });
    expect(sent.status).toBe(202);
    const run = await waitForRun(h.app, h.alice.token, workflowId, runId);
    expect(run.status).toBe("succeeded");
    expect(run.output.wait).toMatchObject({ data: { by: "ops" }, timed_out: false });
    const late = await h.call("POST", `${path}/approved`, { token: h.alice.token, body: {} });
    expect(late.status).toBe(409);
  });
});

describe("map", () => {
  it("runs 2,000 transform items in chunks: output in input order, counts and the items endpoint", async () => {
    const { workflowId } = await h.buildWorkflow([
      {
        name: "each",
        type: "map",
        config: {
          items: "[1..2000]",
          node: { type: "transform", config: { expression: "item * 2" } },
          concurrency: 16,
        },
      },
    ]);
    const started = Date.now();
    const run = await h.runToEnd(workflowId, {}, h.alice, 300_000);
    console.log(`map of 2000 transform items: ${Date.now() - started} ms`);
    expect(run.status).toBe("succeeded");
    expect(run.output.each.items).toHaveLength(2000);
    expect(run.output.each.items.slice(0, 3)).toEqual([2, 4, 6]);
    expect(run.node_executions).toMatchObject([{
      node_name: "each",
      status: "succeeded",
      items: { total: 2000, succeeded: 2000, failed: 0, running: 0 },
    }]);
    const path = `/api/workflows/${workflowId}/runs/${run.id}/nodes/each/items`;
    const page = await h.call("GET", `${path}?limit=2`, { token: h.alice.token });
    expect(page.body).toEqual({
      items: [
        { index: 0, status: "succeeded", attempts: 1, output: 2, error: null, child_run_id: null },
        { index: 1, status: "succeeded", attempts: 1, output: 4, error: null, child_run_id: null },
      ],
      next_cursor: "1",
    });
    const next = await h.call("GET", `${path}?limit=1&cursor=1`, { token: h.alice.token });
    expect(next.body.items[0].index).toBe(2);
    expect((await h.call("GET", `${path}`, { token: h.bob.token })).status).toBe(404);
    // Per-item progress on the event stream, throttled: every item once, in far fewer events than items.
    const events = (await readRunEvents(h.sql, run.id, "0", 10_000)).filter((e) => e.type === "map_items");
    const reported = events.flatMap((e) => (e.data as { items: { index: number }[] }).items.map((i) => i.index));
    expect(new Set(reported).size).toBe(2000);
    expect(events.length).toBeLessThan(400);
  }, 300_000);

  it("a failed map resumes its failed items only when the run is retried", async () => {
    failBelow = 2;
    const { workflowId } = await h.buildWorkflow([{
      name: "each",
      type: "map",
      config: {
        items: "[2, 3, 0, 1]",
        node: {
          type: "http_request",
          config: { url: `${h.upstream.url}/flaky?n={{item}}`, retry: { max_attempts: 1 } },
        },
        concurrency: 1,
      },
    }]);
    const first = await h.runToEnd(workflowId);
    expect(first.status).toBe("failed");
    expect(first.error.message).toMatch(/^node "each" failed: 1 of 4 items failed/);
    // Item 2 (n=0) failed and stopped the map: item 3 never ran.
    expect(first.node_executions[0]).toMatchObject({
      status: "failed",
      items: { total: 4, succeeded: 2, failed: 1, running: 0 },
    });
    failBelow = 0;
    const retry = await h.call("POST", `/api/workflows/${workflowId}/runs/${first.id}/retry`, { token: h.alice.token });
    expect(retry.status).toBe(202);
    const second = await waitForRun(h.app, h.alice.token, workflowId, retry.body.run_id);
    expect(second.status).toBe("succeeded");
    expect(second.output.each.items.map((i: { body: { n: number } }) => i.body.n)).toEqual([2, 3, 0, 1]);
    const items = await h.call("GET", `/api/workflows/${workflowId}/runs/${second.id}/nodes/each/items`, {
      token: h.alice.token,
    });
    // Items 0 and 1 came from the first run (no attempt here); 2 and 3 ran.
    expect(items.body.items.map((i: { attempts: number }) => i.attempts)).toEqual([0, 0, 1, 1]);
  }, 120_000);
});

describe("map over a workflow", () => {
  it("runs a child run per item; failed children leave null under continue; items name their runs", async () => {
    const child = await h.buildWorkflow([
      { name: "times", type: "transform", config: { expression: "input.n = 2 ? $error('no twos') : input.n * 10" } },
    ]);
    const { workflowId } = await h.buildWorkflow([{
      name: "each",
      type: "map",
      config: {
        items: "[1, 2, 3]",
        workflow_id: child.workflowId,
        input: { n: "{{item}}" },
        concurrency: 2,
        on_item_failure: "continue",
      },
    }]);
    const run = await h.runToEnd(workflowId, {}, h.alice, 60_000);
    expect(run.status).toBe("succeeded");
    expect(run.output.each.items).toEqual([{ times: 10 }, null, { times: 30 }]);
    expect(run.output.each.failed).toMatchObject([{ index: 1, error: { node: "times" } }]);
    expect(run.node_executions[0].items).toEqual({ total: 3, succeeded: 2, failed: 1, running: 0 });
    const items = await h.call("GET", `/api/workflows/${workflowId}/runs/${run.id}/nodes/each/items?status=failed`, {
      token: h.alice.token,
    });
    expect(items.body.items).toMatchObject([{ index: 1, status: "failed", child_run_id: expect.any(String) }]);
    const children = await h.call("GET", `/api/workflows/${child.workflowId}/runs`, { token: h.alice.token });
    expect(children.body.items.map((r: { trigger: string; parent_node: string }) => [r.trigger, r.parent_node]))
      .toEqual([["map", "each"], ["map", "each"], ["map", "each"]]);
  }, 120_000);
});

describe("sub-workflows and error workflows", () => {
  it("a sub_workflow's child is a linked run; a failure starts the error workflow once with what failed", async () => {
    const child = await h.buildWorkflow([{ name: "double", type: "transform", config: { expression: "input.x * 2" } }]);
    const onError = await h.buildWorkflow([{ name: "seen", type: "transform", config: { expression: "input" } }]);
    const { workflowId } = await h.buildWorkflow([
      { name: "call", type: "sub_workflow", config: { workflow_id: child.workflowId, input: { x: "{{input.n}}" } } },
      { name: "pause", type: "delay", config: { duration_ms: 100 } },
      { name: "boom", type: "transform", config: { expression: "$error('it broke')" } },
    ]);
    await h.call("PUT", `/api/workflows/${workflowId}`, {
      token: h.alice.token,
      body: { error_workflow_id: onError.workflowId },
    });
    const run = await h.runToEnd(workflowId, { n: 21 });
    expect(run.status).toBe("failed");
    expect(run.node_executions.find((e: { node_name: string }) => e.node_name === "call"))
      .toMatchObject({ status: "succeeded", output: { double: 42 } });
    const children = await h.call("GET", `/api/workflows/${child.workflowId}/runs`, { token: h.alice.token });
    expect(children.body.items).toMatchObject([{
      trigger: "sub_workflow",
      parent_run_id: run.id,
      parent_node: "call",
    }]);
    let errorRuns: { id: string; trigger: string; parent_run_id: string; status: string }[] = [];
    for (let i = 0; i < 100 && !errorRuns.some((r) => r.status === "succeeded"); i++) {
      await new Promise((r) => setTimeout(r, 100));
      errorRuns =
        (await h.call("GET", `/api/workflows/${onError.workflowId}/runs`, { token: h.alice.token })).body.items;
    }
    expect(errorRuns).toMatchObject([{ trigger: "error", parent_run_id: run.id, status: "succeeded" }]);
    const errorRun = await runOf(onError.workflowId, errorRuns[0].id);
    expect(errorRun.body.output.seen).toMatchObject({
      run_id: run.id,
      workflow_id: workflowId,
      failed_node: "boom",
      input: { n: 21 },
    });
  }, 120_000);

  it("cancelling a run cancels its child run and its timers", async () => {
    const child = await h.buildWorkflow([{ name: "hold", type: "wait_for_event", config: { event: "never" } }]);
    const { workflowId } = await h.buildWorkflow([
      { name: "call", type: "sub_workflow", config: { workflow_id: child.workflowId } },
    ]);
    const timer = await h.buildWorkflow([{ name: "long", type: "delay", config: { duration_ms: 3_600_000 } }]);
    const runId = (await h.execute(workflowId)).body.run_id as string;
    const timerRun = (await h.execute(timer.workflowId)).body.run_id as string;
    const childRun = await until(
      async () => (await h.call("GET", `/api/workflows/${child.workflowId}/runs`, { token: h.alice.token })).body.items,
      (items: { id: string; status: string }[]) => items[0]?.status === "waiting",
    );
    await waitForStatus(timer.workflowId, timerRun, "waiting");
    for (const [wf, run] of [[workflowId, runId], [timer.workflowId, timerRun]]) {
      expect((await h.call("POST", `/api/workflows/${wf}/runs/${run}/cancel`, { token: h.alice.token })).status)
        .toBe(202);
    }
    expect((await waitForRun(h.app, h.alice.token, workflowId, runId)).status).toBe("cancelled");
    expect((await waitForRun(h.app, h.alice.token, child.workflowId, childRun[0].id)).status).toBe("cancelled");
    const timed = await waitForRun(h.app, h.alice.token, timer.workflowId, timerRun);
    expect(timed.status).toBe("cancelled");
    expect(timed.node_executions).toMatchObject([{ node_name: "long", status: "cancelled" }]);
  }, 120_000);
});
