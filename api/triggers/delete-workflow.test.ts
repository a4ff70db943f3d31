/** Deleting a workflow takes its triggers with it: its Temporal Schedules and its webhook stop existing. */
import { ScheduleNotFoundError } from "@temporalio/client";
import { describe, expect, it } from "vitest";
import { buildWorkflow, call } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";

const t = useApiHarness({ names: ["wf-del-alice", "wf-del-bob"] });

async function withTriggers(token: string) {
  const { workflowId } = await buildWorkflow(t.app, token, [{ name: "a", config: { url: "http://127.0.0.1:9/" } }]);
  const schedules: string[] = [];
  for (const cron of ["0 0 1 1 *", "0 0 2 1 *"]) {
    const res = await call(t.app, "POST", `/api/workflows/${workflowId}/schedules`, { token, body: { cron } });
    expect(res.status).toBe(201);
    schedules.push(res.body.temporal.schedule_id);
  }
  const hook = await call(t.app, "POST", `/api/workflows/${workflowId}/hook`, { token });
  expect(hook.status).toBe(201);
  return { workflowId, schedules, hookToken: hook.body.token as string };
}

const rows = async (workflowId: string) => {
  const [row] = await t.sql`SELECT
    (SELECT count(*)::int FROM workflow_schedules WHERE workflow_id = ${workflowId}) AS schedules,
    (SELECT count(*)::int FROM workflow_hooks WHERE workflow_id = ${workflowId}) AS hooks,
    (SELECT count(*)::int FROM workflows WHERE id = ${workflowId} AND deleted_at IS NULL) AS live`;
  return row;
};

describe("DELETE /api/workflows/{id}", () => {
  it("another user's delete is a 404 and leaves the workflow, its schedules and its hook in place", async () => {
    const mine = await withTriggers(t.alice.token);
    const res = await call(t.app, "DELETE", `/api/workflows/${mine.workflowId}`, { token: t.bob.token });
    expect(res.status).toBe(404);
    expect(await rows(mine.workflowId)).toEqual({ schedules: 2, hooks: 1, live: 1 });
    for (const id of mine.schedules) await t.temporal.schedule.getHandle(id).describe();
    expect((await call(t.app, "POST", `/api/hooks/${mine.hookToken}`, { body: {} })).status).toBe(202);
    await call(t.app, "DELETE", `/api/workflows/${mine.workflowId}`, { token: t.alice.token });
  });

  it("the owner's delete removes every schedule from Temporal and forgets the hook token", async () => {
    const mine = await withTriggers(t.alice.token);
    const others = await withTriggers(t.bob.token);
    const res = await call(t.app, "DELETE", `/api/workflows/${mine.workflowId}`, { token: t.alice.token });
    expect(res.status).toBe(204);
    for (const id of mine.schedules) {
      await expect(t.temporal.schedule.getHandle(id).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    }
    expect(await rows(mine.workflowId)).toEqual({ schedules: 0, hooks: 0, live: 0 });
    expect((await call(t.app, "POST", `/api/hooks/${mine.hookToken}`, { body: {} })).status).toBe(404);
    // Bob's workflow, schedules and hook are untouched.
    expect(await rows(others.workflowId)).toEqual({ schedules: 2, hooks: 1, live: 1 });
    for (const id of others.schedules) await t.temporal.schedule.getHandle(id).describe();
    await call(t.app, "DELETE", `/api/workflows/${others.workflowId}`, { token: t.bob.token });
  });
});
