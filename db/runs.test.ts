/** Run snapshots against the test database: a version's graph is read once per process, and only a current one. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASE_URL } from "../test/env.ts";
import { connect, type Sql } from "./client.ts";
import { snapshotWorkflow } from "./runs.ts";

let sql: Sql;
let owner: string;

beforeAll(async () => {
  sql = connect(TEST_DATABASE_URL, { max: 4 });
  [{ id: owner }] = await sql`INSERT INTO users (email, password_hash) VALUES (${randomUUID() + "@t"}, 'x')
    RETURNING id`;
});
afterAll(async () => {
  await sql`DELETE FROM users WHERE id = ${owner}`;
  await sql.end();
});

async function workflowWithChain() {
  const [{ id }] = await sql`INSERT INTO workflows (owner_id, name) VALUES (${owner}, 'snapshots') RETURNING id`;
  const node = async (name: string, expression: string) =>
    (await sql`INSERT INTO nodes (workflow_id, name, type, config)
      VALUES (${id}, ${name}, 'transform', ${sql.json({ expression })}) RETURNING id`)[0].id as string;
  const a = await node("a", "1");
  const b = await node("b", "nodes.a.output + 1");
  await sql`INSERT INTO edges (workflow_id, source_node_id, target_node_id) VALUES (${id}, ${a}, ${b})`;
  return { id: id as string, a, b };
}
const source = (id: string, version: number) => ({ id, version, max_parallel: 4 });
const expressionOf = (s: { nodes: { name: string; config: Record<string, unknown> }[] }, name: string) =>
  s.nodes.find((n) => n.name === name)!.config.expression;

describe("run snapshots", () => {
  it("a version's graph is read once: a later snapshot of the same version reads no nodes or edges", async () => {
    const wf = await workflowWithChain();
    const first = await snapshotWorkflow(sql, source(wf.id, 1));
    expect(first).toMatchObject({ workflow_id: wf.id, version: 1, max_parallel: 4, on_failure: "fail_fast" });
    expect(first.nodes.map((n) => n.name)).toEqual(["a", "b"]);
    expect(first.edges).toEqual([{
      id: expect.any(String),
      source_node_id: wf.a,
      target_node_id: wf.b,
      condition: null,
    }]);
    // A write that bypasses the API's version bump (none does: api/workflows/store.ts) is not seen by version 1.
    await sql`UPDATE nodes SET config = ${sql.json({ expression: "2" })} WHERE id = ${wf.a}`;
    const again = await snapshotWorkflow(sql, { ...source(wf.id, 1), max_parallel: 8 });
    expect(expressionOf(again, "a")).toBe("1");
    expect(again.hash).toBe(first.hash);
    expect(again.max_parallel).toBe(8); // settings come from the workflow row as it was read, not the cache
    // The API's way: the change and its new version in one transaction; the next run reads the new graph.
    await sql`UPDATE workflows SET version = version + 1 WHERE id = ${wf.id}`;
    const second = await snapshotWorkflow(sql, source(wf.id, 2));
    expect(expressionOf(second, "a")).toBe("2");
    expect(second.hash).not.toBe(first.hash);
  });

  it("a graph read after its version moved on is used once and not kept", async () => {
    const wf = await workflowWithChain();
    // The caller read version 1, then someone saved version 2 before the graph was read.
    await sql`UPDATE nodes SET config = ${sql.json({ expression: "3" })} WHERE id = ${wf.a}`;
    await sql`UPDATE workflows SET version = 2 WHERE id = ${wf.id}`;
    expect(expressionOf(await snapshotWorkflow(sql, source(wf.id, 1)), "a")).toBe("3");
    await sql`UPDATE nodes SET config = ${sql.json({ expression: "4" })} WHERE id = ${wf.a}`;
    expect(expressionOf(await snapshotWorkflow(sql, source(wf.id, 1)), "a")).toBe("4");
  });

  it("an invalid graph is refused every time, never kept", async () => {
    const wf = await workflowWithChain();
    await sql`INSERT INTO edges (workflow_id, source_node_id, target_node_id) VALUES (${wf.id}, ${wf.b}, ${wf.a})`;
    await expect(snapshotWorkflow(sql, source(wf.id, 1))).rejects.toMatchObject({ name: "InvalidGraphError" });
    await sql`DELETE FROM edges WHERE source_node_id = ${wf.b}`;
    await expect(snapshotWorkflow(sql, source(wf.id, 1))).resolves.toMatchObject({ version: 1 });
  });
});
