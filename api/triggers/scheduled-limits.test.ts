/**
 * A scheduled run gets the limits an API-started run gets: with WEFT_MAX_SUB_WORKFLOW_DEPTH=1, a run whose
 * sub-workflow calls another sub-workflow fails at the second level, whether the API or a schedule started it.
 */
import { describe, expect, it } from "vitest";
import { useApiHarness } from "../../test/harness.ts";
import { until } from "../../test/helpers.ts";

const h = useApiHarness({ env: { WEFT_MAX_SUB_WORKFLOW_DEPTH: "1", WEFT_MAP_BATCH_ITEMS: "7" } });

describe("scheduled runs", () => {
  it("honour WEFT_MAX_SUB_WORKFLOW_DEPTH like an API-started run", async () => {
    const leaf = await h.buildWorkflow([{ name: "leaf", type: "transform", config: { expression: "1" } }]);
    const middle = await h.buildWorkflow([
      { name: "inner", type: "sub_workflow", config: { workflow_id: leaf.workflowId } },
    ]);
    const { workflowId } = await h.buildWorkflow([
      { name: "outer", type: "sub_workflow", config: { workflow_id: middle.workflowId } },
    ]);
    const viaApi = await h.runToEnd(workflowId, {});
    expect(viaApi.status).toBe("failed");
    expect(viaApi.error.message).toMatch(/sub-workflows nest deeper than 1 levels/);

    const created = await h.call("POST", `/api/workflows/${workflowId}/schedules`, {
      token: h.alice.token,
      body: { cron: "0 0 1 1 *" },
    });
    expect(created.status).toBe(201);
    const schedule = h.temporal.schedule.getHandle(created.body.temporal.schedule_id);
    const action = (await schedule.describe()).action;
    expect(action.type === "startWorkflow" && action.args?.[0]).toMatchObject({ maxDepth: 1, mapBatchItems: 7 });
    await schedule.trigger();
    const runId = await until(async () => {
      const [row] = await h.sql`SELECT id FROM workflow_runs WHERE workflow_id = ${workflowId}
                                 AND trigger = 'schedule'`;
      return row?.id as string | undefined;
    }, (id) => id !== undefined);
    const scheduled = await until(
      async () => (await h.call("GET", `/api/workflows/${workflowId}/runs/${runId}`, { token: h.alice.token })).body,
      (run) => run.status === "failed" || run.status === "succeeded",
    );
    expect(scheduled.status).toBe("failed");
    expect(scheduled.error.message).toMatch(/sub-workflows nest deeper than 1 levels/);
    await schedule.delete();
  }, 120_000);
});
