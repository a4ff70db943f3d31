/** Outputs larger than Temporal's 2 MB payload limit pass through by reference and come back whole. */
import { describe, expect, it } from "vitest";
import { buildWorkflow, call, json, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";

let broken = true;
const ITEMS = 30_000; // ~3.3 MB of JSON
const big = JSON.stringify({ items: Array.from({ length: ITEMS }, (_, i) => `item-${i}-${"x".repeat(100)}`) });

const t = useApiHarness({
  upstream: (req, _body, res) => {
    if (req.url === "/big") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(big);
    }
    if (req.url === "/medium") return json(res, 200, { blob: "m".repeat(200_000) });
    if (req.url === "/flaky") return broken ? json(res, 404, { error: "not yet" }) : json(res, 200, { ok: true });
    json(res, 200, { ok: true });
  },
});

async function historyBytes(workflowId: string) {
  const history = await t.temporal.workflow.getHandle(workflowId).fetchHistory();
  return JSON.stringify(history).length;
}

describe("large outputs", () => {
  it("a 3 MB output flows downstream, into conditions and the run output, while Temporal carries a reference", async () => {
    const wf = await buildWorkflow(
      t.app,
      t.alice.token,
      [
        { name: "big", config: { url: `${t.upstream.url}/big` } },
        { name: "count", type: "transform", config: { expression: "$count(nodes.big.output.body.items)" } },
      ],
      [],
    );
    await call(t.app, "POST", `/api/workflows/${wf.workflowId}/edges`, {
      token: t.alice.token,
      body: {
        source_node_id: wf.nodeIds.big,
        target_node_id: wf.nodeIds.count,
        condition: "$count(nodes.big.output.body.items) > 10",
      },
    });
    const started = (await call(t.app, "POST", `/api/workflows/${wf.workflowId}/execute`, {
      token: t.alice.token,
      body: { input: {} },
    })).body;
    const run = await waitForRun(t.app, t.alice.token, wf.workflowId, started.run_id);
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded");
    expect(run.output.count).toBe(ITEMS);
    const big = run.node_executions.find((n: { node_name: string }) => n.node_name === "big");
    expect(big.output.body.items).toHaveLength(ITEMS);
    expect(await historyBytes(started.temporal.workflow_id)).toBeLessThan(200_000);
  });

  it("siblings run as one group keep their shared result small: the largest outputs go by reference", async () => {
    // start → (m1, m2, m3: ~200 KB each, big: 3 MB) → join. The four siblings run as one activity; inline
    // they would need ~3.9 MB in one Temporal payload.
    const mids = ["m1", "m2", "m3"];
    const wf = await buildWorkflow(
      t.app,
      t.alice.token,
      [
        { name: "start", config: { url: `${t.upstream.url}/ok` } },
        ...mids.map((name) => ({ name, config: { url: `${t.upstream.url}/medium` } })),
        { name: "big", config: { url: `${t.upstream.url}/big` } },
        {
          name: "join",
          type: "transform",
          config: {
            expression:
              "$length(nodes.m1.output.body.blob) + $length(nodes.m2.output.body.blob) + $length(nodes.m3.output.body.blob) + $count(nodes.big.output.body.items)",
          },
        },
      ],
      [...[...mids, "big"].flatMap((n) => [["start", n], [n, "join"]] as [string, string][])],
    );
    const started = (await call(t.app, "POST", `/api/workflows/${wf.workflowId}/execute`, {
      token: t.alice.token,
      body: { input: {} },
    })).body;
    const run = await waitForRun(t.app, t.alice.token, wf.workflowId, started.run_id);
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded");
    expect(run.output.join).toBe(3 * 200_000 + ITEMS);
    for (const m of mids) {
      expect(run.node_executions.find((n: { node_name: string }) => n.node_name === m).output.body.blob).toHaveLength(
        200_000,
      );
    }
    const history = await t.temporal.workflow.getHandle(started.temporal.workflow_id).fetchHistory();
    const groups = history.events!.filter((e) =>
      e.activityTaskScheduledEventAttributes?.activityType?.name === "executeNodeGroup"
    );
    expect(groups).toHaveLength(1);
    expect(await historyBytes(started.temporal.workflow_id)).toBeLessThan(1_500_000);
  });

  it("a large sink output is returned whole in the run output", async () => {
    const wf = await buildWorkflow(t.app, t.alice.token, [{ name: "big", config: { url: `${t.upstream.url}/big` } }]);
    const started = (await call(t.app, "POST", `/api/workflows/${wf.workflowId}/execute`, {
      token: t.alice.token,
      body: { input: {} },
    })).body;
    const run = await waitForRun(t.app, t.alice.token, wf.workflowId, started.run_id);
    expect(run.status).toBe("succeeded");
    expect(run.output.big.body.items).toHaveLength(ITEMS);
    expect(run.output.big.body.items[ITEMS - 1]).toMatch(/^item-29999-/);
  });

  it("a re-run reuses a large output by reference instead of copying it into Temporal", async () => {
    const wf = await buildWorkflow(t.app, t.alice.token, [
      { name: "big", config: { url: `${t.upstream.url}/big` } },
      { name: "after", config: { url: `${t.upstream.url}/flaky`, retry: { max_attempts: 1 } } },
    ]);
    broken = true;
    const first = (await call(t.app, "POST", `/api/workflows/${wf.workflowId}/execute`, {
      token: t.alice.token,
      body: { input: {} },
    })).body;
    expect((await waitForRun(t.app, t.alice.token, wf.workflowId, first.run_id)).status).toBe("failed");
    broken = false;
    const retry = (await call(t.app, "POST", `/api/workflows/${wf.workflowId}/runs/${first.run_id}/retry`, {
      token: t.alice.token,
    }))
      .body;
    expect(retry.reused).toEqual(["big"]);
    const run = await waitForRun(t.app, t.alice.token, wf.workflowId, retry.run_id);
    expect(run.status).toBe("succeeded");
    const big = run.node_executions.find((n: { node_name: string }) => n.node_name === "big");
    expect(big.status).toBe("reused");
    expect(big.output.body.items).toHaveLength(ITEMS);
    expect(await historyBytes(retry.temporal.workflow_id)).toBeLessThan(200_000);
  });
});
