/** GET /api/runs: the caller's runs across workflows, filters, keyset paging; another user's runs never listed. */
import { beforeAll, describe, expect, it } from "vitest";
import { buildWorkflow, call, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";

const wfs: string[] = [];
const runs: { id: string; workflow: string }[] = [];
let malloryRun: string;
let malloryWorkflow: string;

const NODE = [{ name: "echo", type: "transform", config: { expression: "input" } }];

async function execute(token: string, workflowId: string, input: unknown) {
  const res = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, { token, body: { input } });
  expect(res.status).toBe(202);
  return res.body.run_id as string;
}

const t = useApiHarness({ names: ["alice", "mallory"] });
beforeAll(async () => {
  for (let i = 0; i < 2; i++) wfs.push((await buildWorkflow(t.app, t.alice.token, NODE)).workflowId);
  malloryWorkflow = (await buildWorkflow(t.app, t.bob.token, NODE)).workflowId;
  // Five runs over two workflows; then back-dated one day apart (newest last) so time filters have edges.
  for (let i = 0; i < 5; i++) {
    const workflow = wfs[i % 2];
    runs.push({ id: await execute(t.alice.token, workflow, { i }), workflow });
  }
  malloryRun = await execute(t.bob.token, malloryWorkflow, { secret: "mallory's" });
  for (const r of runs) await waitForRun(t.app, t.alice.token, r.workflow, r.id);
  for (const [i, r] of runs.entries()) {
    await t.sql`UPDATE workflow_runs SET created_at = '2026-01-10T00:00:00Z'::timestamptz + ${i} * interval '1 day'
                WHERE id = ${r.id}`;
  }
}, 120_000);

const list = (query: string, token = t.alice.token) => call(t.app, "GET", `/api/runs${query}`, { token });
const ids = (body: { items: { id: string }[] }) => body.items.map((r) => r.id);

describe("GET /api/runs", () => {
  it("lists the caller's runs across workflows, newest first, as run summaries", async () => {
    const res = await list("");
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual(runs.map((r) => r.id).reverse());
    expect(res.body.next_cursor).toBeNull();
    expect(res.body.items[0]).toMatchObject({ workflow_id: wfs[0], status: "succeeded", temporal: expect.any(Object) });
  });

  it("filters by workflow, status and time window (since inclusive, until exclusive)", async () => {
    expect(ids((await list(`?workflow_id=${wfs[1]}`)).body)).toEqual([runs[3].id, runs[1].id]);
    expect(ids((await list("?status=succeeded")).body)).toHaveLength(5);
    expect(ids((await list("?status=failed")).body)).toEqual([]);
    const window = await list("?since=2026-01-11T00:00:00Z&until=2026-01-13T00:00:00Z");
    expect(ids(window.body)).toEqual([runs[2].id, runs[1].id]);
  });

  it("pages with next_cursor until the end, with no run twice or missed", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      seen.push(...ids(res.body));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(runs.map((r) => r.id).reverse());
  });

  it("answers bad input with a 400 naming the field", async () => {
    const bad = ["limit=0", "limit=201", "status=done", "since=yesterday", "workflow_id=x", "cursor=bm9wZQ", "z=1"];
    for (const q of bad) {
      const res = await list(`?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error.code, q).toMatch(/BAD_REQUEST|VALIDATION_ERROR/);
      expect(JSON.stringify(res.body.error), q).toContain(q.split("=")[0]);
    }
  });

  it("never lists another user's runs, whatever the filters or a forged cursor", async () => {
    const before = await t.sql`SELECT id, status FROM workflow_runs WHERE id = ${malloryRun}`;
    const all = await list("?limit=200");
    expect(ids(all.body)).not.toContain(malloryRun);
    const theirs = await list(`?workflow_id=${malloryWorkflow}`);
    expect(theirs.status).toBe(200);
    expect(theirs.body.items).toEqual([]);
    // A cursor pointing just after mallory's run still scopes to alice's rows.
    const [row] = await t.sql`SELECT created_at::text AS c FROM workflow_runs WHERE id = ${malloryRun}`;
    const forged = btoa(JSON.stringify([row.c, "ffffffff-ffff-4fff-bfff-ffffffffffff"])).replace(/=+$/, "");
    expect(ids((await list(`?cursor=${forged}`)).body)).not.toContain(malloryRun);
    // And mallory sees only mallory's.
    expect(ids((await list("", t.bob.token)).body)).toEqual([malloryRun]);
    expect((await call(t.app, "GET", "/api/runs")).status).toBe(401);
    expect(await t.sql`SELECT id, status FROM workflow_runs WHERE id = ${malloryRun}`).toEqual(before);
  });

  it("uses the workspace index", async () => {
    // One connection: the planner setting must apply to the EXPLAIN (a tiny table would be scanned otherwise).
    const plan = await t.sql.begin(async (tx) => {
      await tx`SET LOCAL enable_seqscan = off`;
      return await tx`EXPLAIN SELECT id FROM workflow_runs WHERE workspace_id = ${t.alice.id}
                      ORDER BY created_at DESC, id DESC LIMIT 51`;
    });
    expect(plan.map((r) => r["QUERY PLAN"]).join("\n")).toContain("workflow_runs_workspace_created_idx");
  });
});
