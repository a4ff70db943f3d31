/**
 * Issue 15: a node's LAST attempt lost with its worker still gets its `AttemptLost` row. No later attempt exists
 * to record it, so the run's finishing bookkeeping reads Temporal's history (activities/runs/lost-last-attempts.ts).
 * Real worker process killed with SIGKILL during the last attempt, real Temporal, PostgreSQL and upstream server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useApiHarness } from "../../test/harness.ts";
import { buildWorkflow, call, json } from "../../test/helpers.ts";
import { type Spawned, startWorker } from "../../test/processes.ts";
import { kill9, waitFor } from "../../test/stack.ts";

const QUEUE = `weft-lost-last-${process.pid}`;
const workers: Spawned[] = [];
const requestsTo = (path: string) => t.upstream.requests.filter((r) => r.url === path);

const t = useApiHarness({
  env: { WEFT_TASK_QUEUE: QUEUE },
  names: ["lost-last", "bob"],
  // Attempt 1 gets a retryable 500; attempt 2 (the last) never gets an answer: its worker is killed meanwhile.
  upstream: (req, _body, res) => {
    if (requestsTo(req.url!).length === 1) json(res, 500, { error: "try again" });
  },
});
beforeAll(async () => {
  workers.push(await startWorker(QUEUE));
}, 90_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop("SIGKILL")));
});

type Row = { attempt: number; status: string; error_type: string | null };
const rows = (runId: string) =>
  t.sql<Row[]>`SELECT attempt, status, error->>'type' AS error_type FROM node_executions
    WHERE run_id = ${runId} ORDER BY attempt`;

describe("a node's last attempt lost with its worker", () => {
  it.each([
    ["never wrote its row (died before it)", true],
    ["left its row running", false],
  ])("gets its AttemptLost row when the run finishes: an attempt that %s", async (_what, rowLost) => {
    const path = `/slow-${rowLost ? "unrecorded" : "running"}`;
    const alice = t.alice;
    const { workflowId } = await buildWorkflow(t.app, alice.token, [{
      name: "victim",
      config: {
        url: `${t.upstream.url}${path}`,
        timeout_ms: 1000,
        retry: { max_attempts: 2, initial_interval_ms: 100 },
      },
    }]);
    const started = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
      token: alice.token,
      body: { input: {} },
    });
    expect(started.status).toBe(202);
    const runId: string = started.body.run_id;

    await waitFor("the last attempt's request", () => requestsTo(path).length === 2, 60_000, 20);
    await waitFor("the last attempt's row", async () => (await rows(runId)).length === 2, 10_000, 20);
    await kill9(workers.at(-1)!);
    // As if the worker had died before writing its row: the gap the next attempt would normally fill.
    if (rowLost) await t.sql`DELETE FROM node_executions WHERE run_id = ${runId} AND attempt = 2`;
    workers.push(await startWorker(QUEUE));

    // Temporal times the attempt out (heartbeat, 10 s) and retries no more; the new worker finishes the run.
    const deadline = Date.now() + 60_000;
    let run: { status: string; error?: { message: string } } = { status: "running" };
    while (!["succeeded", "failed", "cancelled"].includes(run.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      run = (await call(t.app, "GET", `/api/workflows/${workflowId}/runs/${runId}`, { token: alice.token })).body;
    }
    expect(run.status, JSON.stringify(run)).toBe("failed");
    const recorded = (await rows(runId)).map((r) => ({ ...r }));
    expect(recorded).toHaveLength(2);
    expect(recorded[0]).toMatchObject({ attempt: 1, status: "failed" });
    expect(recorded[0].error_type).not.toBe("AttemptLost");
    expect(recorded[1]).toEqual({ attempt: 2, status: "failed", error_type: "AttemptLost" });
    // Temporal made exactly two attempts; no third was invented.
    expect(requestsTo(path)).toHaveLength(2);
  }, 120_000);
});
