/**
 * A map over a workflow past WEFT_MAP_BATCH_ITEMS (here 4) on the real stack: its child runs start through
 * mapBatch workflows, yet the map answers as before — output in input order, item rows and counts, child runs
 * linked to the map's run, retry-from-failure re-running the failed items only, cancel reaching every child run.
 */
import { describe, expect, it } from "vitest";
import { useApiHarness } from "../../test/harness.ts";
import { json, until, waitForRun } from "../../test/helpers.ts";

let failFive = true;
const h = useApiHarness({
  env: { WEFT_MAP_BATCH_ITEMS: "4" },
  upstream: (req, _body, res) => {
    const n = Number(new URL(req.url!, "http://x").searchParams.get("n"));
    if (failFive && n === 5) return json(res, 400, { error: "bad item" });
    return json(res, 200, { n });
  },
});
const token = () => h.alice.token;
const runsOf = async (workflowId: string) =>
  (await h.call("GET", `/api/workflows/${workflowId}/runs?limit=100`, { token: token() })).body.items as {
    id: string;
    status: string;
    trigger: string;
    parent_run_id: string;
    parent_node: string;
  }[];
const itemsOf = async (workflowId: string, runId: string, query = "") =>
  (await h.call("GET", `/api/workflows/${workflowId}/runs/${runId}/nodes/each/items${query}`, { token: token() }))
    .body.items as { index: number; status: string; child_run_id: string | null }[];

describe("map over a workflow in batches", () => {
  it(
    "answers items in input order with rows, counts and linked child runs; a retry re-runs failed items only",
    async () => {
      const child = await h.buildWorkflow([{
        name: "fetch",
        type: "http_request",
        config: { url: `${h.upstream.url}/item?n={{input.n}}`, retry: { max_attempts: 1 } },
      }]);
      const map = (onItemFailure: string) => ({
        name: "each",
        type: "map",
        config: {
          items: "[0..9]",
          workflow_id: child.workflowId,
          input: { n: "{{item}}" },
          concurrency: 3,
          on_item_failure: onItemFailure,
        },
      });
      const going = await h.buildWorkflow([map("continue")]);
      const run = await h.runToEnd(going.workflowId, {}, h.alice, 90_000);
      expect(run.status).toBe("succeeded");
      const ns = run.output.each.items.map((i: { fetch: { body: { n: number } } } | null) => i && i.fetch.body.n);
      expect(ns).toEqual([0, 1, 2, 3, 4, null, 6, 7, 8, 9]);
      expect(run.output.each.failed.map((f: { index: number }) => f.index)).toEqual([5]);
      expect(run.node_executions[0].items).toEqual({ total: 10, succeeded: 9, failed: 1, running: 0 });
      expect((await itemsOf(going.workflowId, run.id, "?status=failed")).map((i) => i.index)).toEqual([5]);
      const children = (await runsOf(child.workflowId)).filter((r) => r.parent_run_id === run.id);
      expect(children).toHaveLength(10);
      expect(children.every((r) => r.trigger === "map" && r.parent_node === "each")).toBe(true);
      // Three batches of at most four items, each a workflow of its own.
      const [node] = await h.sql`SELECT id FROM nodes WHERE workflow_id = ${going.workflowId}`;
      for (const b of [0, 1, 2]) {
        const batch = await h.temporal.workflow.getHandle(`weft-run-${run.id}-map-${node.id}-${b}`).describe();
        expect([batch.type, batch.status.name]).toEqual(["mapBatch", "COMPLETED"]);
      }

      // Under "fail" item 5 fails the map (and cancels what runs beside it); the retry runs only what did not succeed.
      const failing = await h.buildWorkflow([map("fail")]);
      const first = await h.runToEnd(failing.workflowId, {}, h.alice, 90_000);
      expect(first.status).toBe("failed");
      expect(first.error.message).toMatch(/1 of 10 items failed/);
      const firstItems = await itemsOf(failing.workflowId, first.id);
      const succeeded = firstItems.filter((i) => i.status === "succeeded");
      expect(succeeded.length).toBeLessThan(10);
      failFive = false;
      const retry = await h.call("POST", `/api/workflows/${failing.workflowId}/runs/${first.id}/retry`, {
        token: token(),
      });
      expect(retry.status).toBe(202);
      const second = await waitForRun(h.app, token(), failing.workflowId, retry.body.run_id, 90_000);
      expect(second.status).toBe("succeeded");
      expect(second.output.each.items.map((i: { fetch: { body: { n: number } } }) => i.fetch.body.n))
        .toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const rerun = (await runsOf(child.workflowId)).filter((r) => r.parent_run_id === second.id);
      expect(rerun).toHaveLength(10 - succeeded.length);
      // Items that succeeded before keep their child run.
      const secondItems = await itemsOf(failing.workflowId, second.id);
      for (const s of succeeded) expect(secondItems[s.index].child_run_id).toBe(s.child_run_id);
    },
    240_000,
  );

  it("cancelling the map's run cancels every item's child run in every batch", async () => {
    const child = await h.buildWorkflow([{ name: "hold", type: "wait_for_event", config: { event: "never" } }]);
    const { workflowId } = await h.buildWorkflow([{
      name: "each",
      type: "map",
      config: { items: "[1..8]", workflow_id: child.workflowId, input: { n: "{{item}}" }, concurrency: 8 },
    }]);
    const runId = (await h.execute(workflowId)).body.run_id as string;
    await until(() => runsOf(child.workflowId), (runs) => runs.filter((r) => r.status === "waiting").length === 8);
    expect((await h.call("POST", `/api/workflows/${workflowId}/runs/${runId}/cancel`, { token: token() })).status)
      .toBe(202);
    const run = await waitForRun(h.app, token(), workflowId, runId, 60_000);
    expect(run.status).toBe("cancelled");
    const children = await until(
      () => runsOf(child.workflowId),
      (runs) => runs.length === 8 && runs.every((r) => r.status === "cancelled"),
    );
    expect(children.every((r) => r.parent_run_id === runId)).toBe(true);
  }, 120_000);
});
