/**
 * Issue 15: a node's LAST attempt lost with its worker still gets its `AttemptLost` row. No later attempt exists
 * to record it, so the run's finishing bookkeeping reads Temporal's history (activities/runs/lost-last-attempts.ts).
 * So does each member of a node group whose last attempt was lost, when it had not finished: also one that never
 * began its attempt there. Real worker process killed with SIGKILL during the last attempt, real Temporal, PostgreSQL
 * and upstream server.
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
    if (req.url!.startsWith("/group-ok")) json(res, 200, { ok: true });
    else if (req.url!.startsWith("/group-")) return; // group members that hang until their worker dies
    else if (requestsTo(req.url!).length === 1) json(res, 500, { error: "try again" });
  },
});
beforeAll(async () => {
  workers.push(await startWorker(QUEUE));
}, 90_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop("SIGKILL")));
});

type Row = { attempt: number; status: string; error_type: string | null };
type NodeRow = Row & { node_name: string };
const nodeRows = (runId: string) =>
  t.sql<NodeRow[]>`SELECT node_name, attempt, status, error->>'type' AS error_type FROM node_executions
    WHERE run_id = ${runId} ORDER BY node_name, attempt`;
/** Polls the run until it is final (60 s at most). */
async function finalRun(token: string, workflowId: string, runId: string) {
  const deadline = Date.now() + 60_000;
  let run: { status: string; error?: { message: string } } = { status: "running" };
  while (!["succeeded", "failed", "cancelled"].includes(run.status) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    run = (await call(t.app, "GET", `/api/workflows/${workflowId}/runs/${runId}`, { token })).body;
  }
  return run;
}

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
        // A regular activity: a local one lost with its worker is run again (test/local-durability.test.ts).
        durable_step: true,
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
    const run = await finalRun(alice.token, workflowId, runId);
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

describe("a node group's last attempt lost with its worker", () => {
  it(
    "gives every member that had not finished its AttemptLost row, one that never began its attempt included",
    async () => {
      const alice = t.alice;
      // Three siblings run as one group activity (Temporal attempts: the members' most, 1, plus one).
      const once = (path: string) => ({
        url: `${t.upstream.url}${path}`,
        timeout_ms: 60_000,
        retry: { max_attempts: 1 },
      });
      const { workflowId } = await buildWorkflow(t.app, alice.token, [
        { name: "start", config: once("/group-ok-start") },
        { name: "ok", config: once("/group-ok") },
        { name: "running", config: once("/group-running") },
        { name: "unstarted", config: once("/group-unstarted") },
      ], [["start", "ok"], ["start", "running"], ["start", "unstarted"]]);
      const started = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
        token: alice.token,
        body: { input: {} },
      });
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      const runId: string = started.body.run_id;
      // Both hanging members' rows are running and their requests have arrived (`n` so far each).
      const running = async (n: number) => {
        const r = await nodeRows(runId);
        const done = r.some((row) => row.node_name === "ok" && row.status === "succeeded");
        return done &&
          ["running", "unstarted"].every((name) =>
            r.some((row) => row.node_name === name && row.status === "running") &&
            requestsTo(`/group-${name}`).length === n
          );
      };
      const forget = (name: string) =>
        t.sql`DELETE FROM node_executions WHERE run_id = ${runId} AND node_name = ${name}`;

      // Group attempt 1: "ok" succeeds, the other two hang; the worker dies before either hanging member's row was
      // written (simulated), so both begin their attempt 1 in the group's next, last attempt.
      await waitFor("attempt 1's rows and requests", () => running(1), 30_000, 20);
      await kill9(workers.at(-1)!);
      await forget("running");
      await forget("unstarted");
      workers.push(await startWorker(QUEUE));

      // Group attempt 2 (the last), after the heartbeat timeout: the worker dies again, "unstarted" before its row.
      await waitFor("attempt 2's rows and requests", () => running(2), 40_000, 20);
      await kill9(workers.at(-1)!);
      await forget("unstarted");
      workers.push(await startWorker(QUEUE));

      const run = await finalRun(alice.token, workflowId, runId);
      expect(run.status, JSON.stringify(run)).toBe("failed");
      expect((await nodeRows(runId)).map((r) => ({ ...r }))).toEqual([
        { node_name: "ok", attempt: 1, status: "succeeded", error_type: null },
        { node_name: "running", attempt: 1, status: "failed", error_type: "AttemptLost" },
        { node_name: "start", attempt: 1, status: "succeeded", error_type: null },
        { node_name: "unstarted", attempt: 1, status: "failed", error_type: "AttemptLost" },
      ]);
      // The group made two attempts: "ok" ran once, the others once in each.
      expect(requestsTo("/group-ok")).toHaveLength(1);
      expect(requestsTo("/group-unstarted")).toHaveLength(2);
    },
    150_000,
  );
});
