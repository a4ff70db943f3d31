/** Big graphs: a 1,000-node run completes, and long runs continue as new to stay within history limits. */
import { beforeAll, describe, expect, it } from "vitest";
import { call, setupApp, temporalFinalStatus, type TestContext, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";

let small: TestContext;

const t = useApiHarness();
beforeAll(async () => {
  // An API that asks runs to continue as new after only 100 history events.
  small = await setupApp({ WEFT_MAX_HISTORY_EVENTS: "100" });
});

/** Inserts a graph straight into PostgreSQL (faster than 2,000 API calls); `parent(i)` is node i's upstream. */
async function insertGraph(
  count: number,
  parent: (i: number) => number | null,
  expression: (i: number) => string,
  maxParallel: number,
  config: Record<string, unknown> = {},
) {
  const [wf] = await t
    .sql`INSERT INTO workflows (owner_id, name, max_parallel) VALUES (${t.alice.id}, 'big', ${maxParallel}) RETURNING id`;
  const nodes = Array.from({ length: count }, (_, i) => ({
    id: crypto.randomUUID(),
    workflow_id: wf.id,
    name: `n${i}`,
    type: "transform",
    config: t.sql.json({ expression: expression(i), ...config }),
  }));
  for (let i = 0; i < nodes.length; i += 500) await t.sql`INSERT INTO nodes ${t.sql(nodes.slice(i, i + 500) as never)}`;
  const edges = nodes.flatMap((n, i) => {
    const p = parent(i);
    return p === null ? [] : [{ workflow_id: wf.id, source_node_id: nodes[p].id, target_node_id: n.id }];
  });
  for (let i = 0; i < edges.length; i += 500) await t.sql`INSERT INTO edges ${t.sql(edges.slice(i, i + 500) as never)}`;
  return { workflowId: wf.id as string, nodes };
}

async function executionsPerNode(runId: string) {
  return await t.sql`SELECT node_name, count(*)::int AS rows, max(attempt)::int AS attempts,
      bool_and(status = 'succeeded') AS ok FROM node_executions WHERE run_id = ${runId} GROUP BY node_name`;
}

describe("big graphs", () => {
  it("continues as new when the history grows, without re-running finished nodes", async () => {
    // n0 → n1..n150 → n151 (which reads every upstream output). Eight at a time: siblings run as groups of
    // eight, one activity each, and the history still outgrows WEFT_MAX_HISTORY_EVENTS=100 several times.
    // durable_step: as local activities these transforms would all finish inside a few workflow tasks, and the
    // history length the run checks only grows between workflow tasks (docs/engine.md, Local activities).
    const M = 150;
    const { workflowId } = await insertGraph(
      M + 2,
      (i) => (i === 0 ? null : i <= M ? 0 : null),
      (i) => (i === 0 ? "1" : i <= M ? `nodes.n0.output + ${i}` : "$count($keys(nodes))"),
      8,
      { durable_step: true },
    );
    const ids = await t.sql`SELECT id, name FROM nodes WHERE workflow_id = ${workflowId}`;
    const byName = Object.fromEntries(ids.map((r) => [r.name, r.id]));
    const joinEdges = Array.from({ length: M }, (_, k) => ({
      workflow_id: workflowId,
      source_node_id: byName[`n${k + 1}`],
      target_node_id: byName[`n${M + 1}`],
    }));
    await t.sql`INSERT INTO edges ${t.sql(joinEdges as never)}`;
    const started = (await call(small.app, "POST", `/api/workflows/${workflowId}/execute`, {
      token: t.alice.token,
      body: { input: {} },
    })).body;
    const run = await waitForRun(small.app, t.alice.token, workflowId, started.run_id, 120_000);
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded");
    expect(run.output).toEqual({ [`n${M + 1}`]: M + 1 });
    const per = await executionsPerNode(started.run_id);
    expect(per).toHaveLength(M + 2);
    for (const row of per) expect(row, row.node_name as string).toMatchObject({ rows: 1, attempts: 1, ok: true });
    const latest = await temporalFinalStatus(t.temporal, started.temporal.workflow_id);
    expect(latest.runId).not.toBe(started.temporal.run_id); // it continued as new at least once
    expect(latest.status.name).toBe("COMPLETED");
  }, 180_000);

  it("a 1,000-node workflow completes with every node run exactly once", async () => {
    // n0, then 100 chains of ~10 nodes hanging off it.
    const { workflowId } = await insertGraph(
      1000,
      (i) => (i === 0 ? null : i <= 100 ? 0 : i - 100),
      (i) => `input.base + ${i}`,
      100,
    );
    const started = (await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
      token: t.alice.token,
      body: { input: { base: 1000 } },
    })).body;
    const run = await waitForRun(t.app, t.alice.token, workflowId, started.run_id, 240_000);
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded");
    const per = await executionsPerNode(started.run_id);
    expect(per).toHaveLength(1000);
    expect(per.every((r) => r.rows === 1 && r.attempts === 1 && r.ok)).toBe(true);
    expect(run.output.n999).toBe(1999);
    const latest = await temporalFinalStatus(t.temporal, started.temporal.workflow_id);
    expect(latest.historyLength).toBeLessThan(51_200);
  }, 300_000);
});
