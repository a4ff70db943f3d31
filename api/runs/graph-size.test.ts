/** A run larger than Temporal can start is refused up front with 413 GRAPH_TOO_LARGE, leaving nothing behind. */
import { describe, expect, it } from "vitest";
import { buildWorkflow, call } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";
import { TEST_TASK_QUEUE } from "../../test/env.ts";

const t = useApiHarness({ names: ["graph-size", "bob"] });

// Nodes of 650 KB each: every save is under the 1 MB body limit; three fit the engine, four do not.
const bigNode = (name: string) => ({
  name,
  config: { url: "http://127.0.0.1:9/", method: "POST", body: "x".repeat(650_000) },
});

describe("graph size", () => {
  it("saving a node that makes the graph too large is a 413 GRAPH_TOO_LARGE; the graph is unchanged", async () => {
    const { workflowId, nodeIds } = await buildWorkflow(t.app, t.alice.token, [
      bigNode("a"),
      bigNode("b"),
      bigNode("c"),
    ]);
    const before = await t.sql`SELECT id, md5(config::text) AS config FROM nodes WHERE workflow_id = ${workflowId}
      ORDER BY id`;
    const [{ version }] = await t.sql`SELECT version FROM workflows WHERE id = ${workflowId}`;
    const add = await call(t.app, "POST", `/api/workflows/${workflowId}/nodes`, {
      token: t.alice.token,
      body: { ...bigNode("d"), type: "http_request" },
    });
    const grow = await call(t.app, "PUT", `/api/workflows/${workflowId}/nodes/${nodeIds.a}`, {
      token: t.alice.token,
      body: { config: { ...bigNode("a").config, body: "y".repeat(900_000) } },
    });
    for (const res of [add, grow]) {
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe("GRAPH_TOO_LARGE");
      expect(res.body.error.message).toMatch(/node configs would total \d+ bytes.*up to 2097152 bytes/);
    }
    const after = await t.sql`SELECT id, md5(config::text) AS config FROM nodes WHERE workflow_id = ${workflowId}
      ORDER BY id`;
    expect(after).toEqual(before);
    expect((await t.sql`SELECT version FROM workflows WHERE id = ${workflowId}`)[0].version).toBe(version);
  });

  it("execute and a webhook answer 413 GRAPH_TOO_LARGE saying why; no run row, no Temporal workflow", async () => {
    // Three nodes fit as configs; the input on top of them does not (the body limit allows ~1 MB of it).
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [bigNode("a"), bigNode("b"), bigNode("c")]);
    const hook = await call(t.app, "POST", `/api/workflows/${workflowId}/hook`, { token: t.alice.token });
    const input = { text: "z".repeat(300_000) };
    const attempts = [
      await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, { token: t.alice.token, body: { input } }),
      await call(t.app, "POST", `/api/hooks/${hook.body.token}`, { body: input }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe("GRAPH_TOO_LARGE");
      expect(res.body.error.message).toMatch(/encode to \d+ bytes.*at most 2097152 bytes/);
      expect(res.body.error.details.encoded_bytes).toBeGreaterThan(2_097_152);
    }
    const runs = await t.sql`SELECT id FROM workflow_runs WHERE workflow_id = ${workflowId}`;
    expect(runs).toHaveLength(0);
  });

  it("the bound is Temporal's: the dev server itself refuses a workflow input of that size", async () => {
    const start = t.temporal.workflow.start("runDag", {
      taskQueue: `${TEST_TASK_QUEUE}-never-polled`,
      workflowId: `weft-size-probe-${Date.now()}`,
      args: [{ blob: "x".repeat(2_200_000) }],
    });
    const err = await start.then(() => null, (e: Error) => e);
    expect(`${err?.message} ${(err?.cause as Error | undefined)?.message}`).toMatch(/size|limit/i);
  });

  it("a graph under the bound still starts", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [bigNode("only")]);
    const res = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, { token: t.alice.token, body: {} });
    expect(res.status).toBe(202);
  });
});
