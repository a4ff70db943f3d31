/**
 * Retention through the real Temporal schedule and worker: finished runs older than WEFT_RUN_RETENTION_DAYS
 * (the test worker's default, 30) go with their node executions and events; recent runs and unfinished old
 * ones stay untouched. Rows are back-dated in PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_TASK_QUEUE } from "../test/env.ts";
import { buildWorkflow, call, waitForRun } from "../test/helpers.ts";
import { useApiHarness } from "../test/harness.ts";
import { ensureRetentionSchedule } from "./retention.ts";

const SCHEDULE = `weft-run-retention-test-${process.pid}`;
const runs: string[] = [];

const counts = async (runId: string) => {
  const [row] = await t.sql`SELECT
      (SELECT count(*)::int FROM workflow_runs WHERE id = ${runId}) AS runs,
      (SELECT count(*)::int FROM node_executions WHERE run_id = ${runId}) AS nodes,
      (SELECT count(*)::int FROM run_events WHERE run_id = ${runId}) AS events`;
  return row as { runs: number; nodes: number; events: number };
};

const t = useApiHarness();
beforeAll(async () => {
  const node = [{ name: "echo", type: "transform", config: { expression: "input" } }];
  for (const user of [t.alice, t.alice, t.alice, t.bob]) {
    const { workflowId } = await buildWorkflow(t.app, user.token, node);
    const res = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
      token: user.token,
      body: { input: { n: runs.length } },
    });
    await waitForRun(t.app, user.token, workflowId, res.body.run_id);
    runs.push(res.body.run_id);
  }
  // runs[0], runs[1]: finished 40 days ago; runs[2]: 40 days old but still running; runs[3] (bob's): recent.
  await t.sql`UPDATE workflow_runs SET created_at = now() - interval '40 days' WHERE id IN ${t.sql(runs.slice(0, 3))}`;
  await t.sql`UPDATE workflow_runs SET status = 'running', finished_at = NULL WHERE id = ${runs[2]}`;
}, 120_000);

afterAll(async () => {
  await t.temporal.schedule.getHandle(SCHEDULE).delete().catch(() => {});
});

describe("run retention", () => {
  it("the schedule deletes expired finished runs with their node executions and events, and nothing else", async () => {
    const before = await Promise.all(runs.map(counts));
    for (const c of before) expect(c.runs === 1 && c.nodes > 0 && c.events > 0, JSON.stringify(c)).toBe(true);

    const warnings: string[] = [];
    const logger = { info: () => {}, warn: (m: string, f: unknown) => warnings.push(`${m} ${JSON.stringify(f)}`) };
    await ensureRetentionSchedule(t.temporalHttp, { WEFT_TASK_QUEUE: TEST_TASK_QUEUE }, logger as never, SCHEDULE);
    await ensureRetentionSchedule(t.temporalHttp, { WEFT_TASK_QUEUE: TEST_TASK_QUEUE }, logger as never, SCHEDULE);
    expect(warnings).toEqual([]);
    const handle = t.temporal.schedule.getHandle(SCHEDULE);
    expect((await handle.describe()).action).toMatchObject({ workflowType: "pruneRuns", taskQueue: TEST_TASK_QUEUE });
    await handle.trigger();

    const deadline = Date.now() + 60_000;
    while ((await counts(runs[1])).runs && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    const after = await Promise.all(runs.map(counts));
    expect(after[0]).toEqual({ runs: 0, nodes: 0, events: 0 });
    expect(after[1]).toEqual({ runs: 0, nodes: 0, events: 0 });
    expect(after[2]).toEqual(before[2]);
    expect(after[3]).toEqual(before[3]);
    // The workflow the schedule started finished and said how many it deleted.
    const recent = (await handle.describe()).info.recentActions.at(-1)!;
    const result = await t.temporal.workflow.getHandle(recent.action.workflow.workflowId).result();
    expect(result.deleted).toBeGreaterThanOrEqual(2);
  });
});
