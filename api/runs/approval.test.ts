/** Human approval: a run waits for a person's decision, or for its timeout's default decision. */
import { describe, expect, it } from "vitest";
import { buildWorkflow, call, json, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";

const t = useApiHarness({ upstream: (req, _body, res) => json(res, 200, { path: req.url }) });

async function approvalFlow(approval: Record<string, unknown>) {
  return await buildWorkflow(t.app, t.alice.token, [
    { name: "draft", config: { url: `${t.upstream.url}/draft` } },
    { name: "review", type: "approval", config: { message: "Publish {{input.title}}?", ...approval } },
    { name: "publish", config: { url: `${t.upstream.url}/publish` } },
  ]);
}

async function waitForStatus(workflowId: string, runId: string, status: string) {
  for (let i = 0; i < 100; i++) {
    const run = (await call(t.app, "GET", `/api/workflows/${workflowId}/runs/${runId}`, { token: t.alice.token })).body;
    if (run.status === status) return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run never became ${status}`);
}

const start = async (workflowId: string) =>
  (await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
    token: t.alice.token,
    body: { input: { title: "Q3 report" } },
  }))
    .body.run_id as string;
const approve = (workflowId: string, runId: string, body: unknown, token = t.alice.token, node = "review") =>
  call(t.app, "POST", `/api/workflows/${workflowId}/runs/${runId}/nodes/${node}/approve`, { token, body });

describe("approval nodes", () => {
  it("puts the run in waiting until approved, then carries on with the reviewer's data", async () => {
    const { workflowId } = await approvalFlow({});
    const runId = await start(workflowId);
    const waiting = await waitForStatus(workflowId, runId, "waiting");
    const review = waiting.node_executions.find((n: { node_name: string }) => n.node_name === "review");
    expect(review).toMatchObject({ status: "waiting", input: { message: "Publish Q3 report?" } });
    expect((await approve(workflowId, runId, { approved: true }, t.bob.token)).status).toBe(404);
    expect((await approve(workflowId, runId, { approved: true }, t.alice.token, "publish")).status).toBe(409);
    expect((await approve(workflowId, runId, { approved: "yes" })).status).toBe(400);
    const res = await approve(workflowId, runId, { approved: true, data: { note: "ship it" } });
    expect(res.status).toBe(200);
    const run = await waitForRun(t.app, t.alice.token, workflowId, runId);
    expect(run.status).toBe("succeeded");
    const decided = run.node_executions.find((n: { node_name: string }) => n.node_name === "review");
    expect(decided.status).toBe("succeeded");
    expect(decided.output).toEqual({
      approved: true,
      data: { note: "ship it" },
      decided_by: t.alice.email,
      timed_out: false,
    });
    expect(run.node_executions.map((n: { node_name: string }) => n.node_name)).toContain("publish");
    expect((await approve(workflowId, runId, { approved: true })).status).toBe(409);
  });

  it("a rejection fails the run and nothing after the approval runs", async () => {
    const { workflowId } = await approvalFlow({});
    const runId = await start(workflowId);
    await waitForStatus(workflowId, runId, "waiting");
    await approve(workflowId, runId, { approved: false });
    const run = await waitForRun(t.app, t.alice.token, workflowId, runId);
    expect(run.status).toBe("failed");
    expect(run.error.node).toBe("review");
    expect(run.error.message).toContain(`rejected by ${t.alice.email}`);
    const publish = run.node_executions.find((n: { node_name: string }) => n.node_name === "publish");
    expect(publish.status).toBe("skipped");
  });

  it("applies the default decision when the timeout passes", async () => {
    const { workflowId } = await approvalFlow({ timeout_ms: 500, default_decision: "approve" });
    const run = await waitForRun(t.app, t.alice.token, workflowId, await start(workflowId));
    expect(run.status).toBe("succeeded");
    const review = run.node_executions.find((n: { node_name: string }) => n.node_name === "review");
    expect(review.output).toMatchObject({ approved: true, timed_out: true, decided_by: null });
  });

  it("with on_reject continue, conditions can route on the decision", async () => {
    const wf = await buildWorkflow(
      t.app,
      t.alice.token,
      [
        { name: "review", type: "approval", config: { on_reject: "continue" } },
        { name: "publish", config: { url: `${t.upstream.url}/publish` } },
        { name: "notify", config: { url: `${t.upstream.url}/notify` } },
      ],
      [],
    );
    for (
      const [target, condition] of [["publish", "nodes.review.output.approved"], [
        "notify",
        "$not(nodes.review.output.approved)",
      ]]
    ) {
      await call(t.app, "POST", `/api/workflows/${wf.workflowId}/edges`, {
        token: t.alice.token,
        body: { source_node_id: wf.nodeIds.review, target_node_id: wf.nodeIds[target], condition },
      });
    }
    const runId = await start(wf.workflowId);
    await waitForStatus(wf.workflowId, runId, "waiting");
    await approve(wf.workflowId, runId, { approved: false });
    const run = await waitForRun(t.app, t.alice.token, wf.workflowId, runId);
    expect(run.status).toBe("succeeded");
    const status = Object.fromEntries(
      run.node_executions.map((n: { node_name: string; status: string }) => [n.node_name, n.status]),
    );
    expect(status).toEqual({ review: "succeeded", publish: "skipped", notify: "succeeded" });
  });
});
