/** U+0000 in a JSON body (found by the fuzz stage as a 500 from PostgreSQL's jsonb): a 400 naming the field. */
import { describe, expect, it } from "vitest";
import { buildWorkflow, call } from "../test/helpers.ts";
import { useApiHarness } from "../test/harness.ts";

const t = useApiHarness({ names: ["nul", "bob"] });

describe("U+0000 in request bodies", () => {
  it("is a 400 naming the field, and nothing is stored", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{ name: "a", config: { url: "https://x" } }]);
    const schedule = await call(t.app, "POST", `/api/workflows/${workflowId}/schedules`, {
      token: t.alice.token,
      body: { cron: "0 * * * *", input: { "k\u0000": { v: 1 } } },
    });
    expect(schedule.status).toBe(400);
    expect(schedule.body.error).toMatchObject({ code: "VALIDATION_ERROR" });
    expect(schedule.body.error.details[0]).toMatchObject({ field: "input.k\u0000", location: "body" });
    const execute = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
      token: t.alice.token,
      body: { input: { deep: [{ s: "a\u0000b" }] } },
    });
    expect(execute.status).toBe(400);
    expect(execute.body.error.details[0]).toMatchObject({ field: "input.deep.0.s", location: "body" });
    const workflow = await call(t.app, "POST", "/api/workflows", { token: t.alice.token, body: { name: "x\u0000" } });
    expect(workflow.status).toBe(400);
    const [counts] = await t.sql`
      SELECT (SELECT count(*)::int FROM workflow_schedules WHERE workflow_id = ${workflowId}) AS schedules,
             (SELECT count(*)::int FROM workflow_runs WHERE workflow_id = ${workflowId}) AS runs,
             (SELECT count(*)::int FROM workflows WHERE owner_id = ${t.alice.id}) AS workflows`;
    expect(counts).toEqual({ schedules: 0, runs: 0, workflows: 1 });
  });
});
