/** node_executions through group commit, against the test database: batches, JSON nulls, run events, isolation. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASE_URL } from "../test/env.ts";
import { connect, type Sql } from "./client.ts";
import { createNodeExecutionLog } from "./node-executions.ts";

let sql: Sql;
let owner: string;
let workflow: string;

const newRun = async (status = "running") => {
  const id = randomUUID();
  await sql`INSERT INTO workflow_runs (id, workflow_id, owner_id, status, snapshot, version_hash, workflow_version,
              temporal_workflow_id)
            VALUES (${id}, ${workflow}, ${owner}, ${status}, '{}', 'h', 1, ${"run-" + id})`;
  return id;
};
const eventsOf = async (run: string) =>
  (await sql`SELECT type, data FROM run_events WHERE run_id = ${run} ORDER BY id`).map((e) =>
    `${e.type} ${e.type === "node" ? `${e.data.node_name} ` : ""}${e.data.status}`
  );

beforeAll(async () => {
  sql = connect(TEST_DATABASE_URL, { max: 10 });
  [{ id: owner }] = await sql`INSERT INTO users (email, password_hash) VALUES (${
    randomUUID() + "@t"
  }, 'x') RETURNING id`;
  [{ id: workflow }] = await sql`INSERT INTO workflows (owner_id, name) VALUES (${owner}, 'log test') RETURNING id`;
});
afterAll(async () => {
  await sql`DELETE FROM users WHERE id = ${owner}`;
  await sql.end();
});

describe("node execution log", () => {
  it("records many parallel attempts of several runs, with their events in order per run", async () => {
    const log = createNodeExecutionLog(sql);
    const runs = [await newRun(), await newRun()];
    const attempts = Array.from({ length: 40 }, (_, i) => ({
      run_id: runs[i % 2],
      node_id: randomUUID(),
      node_name: `n${i}`,
      type: "http_request",
      attempt: 1,
      input: i === 0 ? null : { i },
    }));
    const ids = await Promise.all(attempts.map((a) => log.started(a)));
    expect(new Set(ids).size).toBe(40);
    await Promise.all(attempts.map((a, i) =>
      log.finished({
        id: ids[i]!,
        run_id: a.run_id,
        status: i === 1 ? "failed" : "succeeded",
        // undefined leaves output NULL; null is JSON null; a string stays a JSON string.
        output: i === 1 ? undefined : i === 2 ? null : i === 3 ? "text" : { out: i },
        error: i === 1 ? { message: "boom", type: "X" } : null,
        duration_ms: i,
      })
    ));
    const rows = await sql`SELECT id, node_name, status, attempt, input, output, output IS NULL AS sql_null, error,
                                  duration_ms, finished_at IS NOT NULL AS finished
                             FROM node_executions WHERE run_id IN ${sql(runs)} ORDER BY node_name`;
    const by = new Map(rows.map((r) => [r.node_name as string, r]));
    expect(rows).toHaveLength(40);
    expect(by.get("n0")).toMatchObject({ input: null, status: "succeeded", output: { out: 0 }, finished: true });
    expect(by.get("n1")).toMatchObject({ status: "failed", sql_null: true, error: { message: "boom", type: "X" } });
    expect(by.get("n2")).toMatchObject({ status: "succeeded", sql_null: false, output: null });
    expect(by.get("n3")).toMatchObject({ output: "text", duration_ms: 3, input: { i: 3 } });
    for (const r of rows) expect(Number(r.id)).toBe(ids[Number((r.node_name as string).slice(1))]);
    // Every attempt announced itself running, then its final status; per run, event ids follow that order.
    for (const run of runs) {
      const events = await sql`SELECT id, data FROM run_events WHERE run_id = ${run} AND type = 'node' ORDER BY id`;
      expect(events).toHaveLength(40);
      const seen = new Map<string, string[]>();
      for (const e of events) {
        const d = e.data as { node_name: string; status: string };
        seen.set(d.node_name, [...(seen.get(d.node_name) ?? []), d.status]);
      }
      for (const [, statuses] of seen) expect(statuses[0]).toBe("running");
      expect([...seen.values()].every((s) => s.length === 2)).toBe(true);
    }
  });

  it("a second start of the same attempt takes over its row; a bad item fails alone", async () => {
    const log = createNodeExecutionLog(sql);
    const run = await newRun();
    const node = randomUUID();
    const first = await log.started({ run_id: run, node_id: node, node_name: "a", type: "t", attempt: 1, input: {} });
    const missingRun = randomUUID(); // no such run (or no live one): no row, and no error (run-guard.ts)
    const settled = await Promise.allSettled([
      log.started({ run_id: run, node_id: randomUUID(), node_name: "b", type: "t", attempt: 1, input: {} }),
      log.started({ run_id: run, node_id: node, node_name: "a", type: "t", attempt: 1, input: { again: true } }),
      // jsonb cannot hold U+0000: PostgreSQL refuses this row, and only this one.
      log.started({
        run_id: run,
        node_id: randomUUID(),
        node_name: "c",
        type: "t",
        attempt: 1,
        input: { s: "\u0000" },
      }),
      log.started({ run_id: run, node_id: randomUUID(), node_name: "d", type: "t", attempt: 1, input: {} }),
      log.started({ run_id: missingRun, node_id: randomUUID(), node_name: "e", type: "t", attempt: 1, input: {} }),
    ]);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect((settled[1] as PromiseFulfilledResult<number>).value).toBe(first);
    expect((settled[4] as PromiseFulfilledResult<number | undefined>).value).toBeUndefined();
    const [row] = await sql`SELECT input FROM node_executions WHERE id = ${first}`;
    expect(row.input).toEqual({ again: true });
    const names = await sql`SELECT node_name FROM node_executions WHERE run_id = ${run} ORDER BY node_name`;
    expect(names.map((r) => r.node_name)).toEqual(["a", "b", "d"]);
  });

  it("a fresh start or record keeps the row an earlier try left; others in the same batch are written", async () => {
    const log = createNodeExecutionLog(sql);
    const run = await newRun();
    const [kept, keptRecord, other] = [randomUUID(), randomUUID(), randomUUID()];
    const base = { run_id: run, node_name: "a", type: "t", attempt: 1 };
    const earlier = await log.started({ ...base, node_id: kept, input: { try: 1 } });
    await log.recorded({
      ...base,
      node_id: keptRecord,
      input: { try: 1 },
      status: "succeeded",
      output: { first: true },
      error: null,
      duration_ms: 1,
    });
    const [startedAgain, recordedAgain, otherStart, takenOver] = await Promise.all([
      log.started({ ...base, node_id: kept, input: { try: 2 }, fresh: true }),
      log.recorded({
        ...base,
        node_id: keptRecord,
        input: { try: 2 },
        status: "succeeded",
        output: { first: false },
        error: null,
        duration_ms: 1,
        fresh: true,
      }),
      log.started({ ...base, node_id: other, input: { try: 1 }, fresh: true }),
      log.started({ ...base, node_id: kept, attempt: 2, input: { try: 3 } }),
    ]);
    expect([startedAgain, recordedAgain]).toEqual([undefined, false]);
    expect(typeof otherStart).toBe("number");
    expect(typeof takenOver).toBe("number");
    const rows = await sql`SELECT node_id, attempt, status, input, output FROM node_executions
                            WHERE run_id = ${run} ORDER BY node_id, attempt`;
    const of = (id: string, attempt = 1) => rows.find((r) => r.node_id === id && r.attempt === attempt);
    expect(Number((await sql`SELECT id FROM node_executions WHERE node_id = ${kept} AND attempt = 1`)[0].id))
      .toBe(earlier);
    expect(of(kept)).toMatchObject({ status: "running", input: { try: 1 } });
    expect(of(keptRecord)).toMatchObject({ status: "succeeded", input: { try: 1 }, output: { first: true } });
    expect(of(other)).toMatchObject({ status: "running", input: { try: 1 } });
    expect(of(kept, 2)).toMatchObject({ status: "running", input: { try: 3 } });
  });

  it("writes a short attempt as one row: its final status, back-dated started_at and duration", async () => {
    const log = createNodeExecutionLog(sql);
    const run = await newRun("pending");
    const node = randomUUID();
    const base = { run_id: run, node_id: node, node_name: "a", type: "t", attempt: 1, input: { x: 1 } };
    const end = { status: "succeeded" as const, output: { y: 2 }, error: null, duration_ms: 1500 };
    const [ok, failed] = await Promise.all([
      log.recorded({ ...base, ...end }),
      log.recorded({
        ...base,
        node_id: randomUUID(),
        node_name: "b",
        status: "failed",
        output: undefined,
        error: { message: "no", type: "X", retryable: false },
        duration_ms: 3,
      }),
    ]);
    expect([ok, failed]).toEqual([true, true]);
    const [row] = await sql`SELECT status, input, output, duration_ms,
        extract(epoch FROM finished_at - started_at) * 1000 AS took FROM node_executions WHERE node_id = ${node}`;
    expect(row).toMatchObject({ status: "succeeded", input: { x: 1 }, output: { y: 2 }, duration_ms: 1500 });
    expect(Number(row.took)).toBeCloseTo(1500, 0);
    // The first row began the run (migration 041): its `running` event comes before the node's, and the run's
    // started_at is when that node began (never before the run was created).
    expect(await eventsOf(run)).toEqual(["run pending", "run running", "node a succeeded", "node b failed"]);
    const [r] = await sql`SELECT status, started_at >= created_at AS after_created, started_at <= now() AS began
                            FROM workflow_runs WHERE id = ${run}`;
    expect(r).toEqual({ status: "running", after_created: true, began: true });
    // The same attempt written again (a try of it whose worker died) takes the row over; the run does not move.
    expect(await log.recorded({ ...base, ...end, output: "again", duration_ms: 1 })).toBe(true);
    const rows = await sql`SELECT output FROM node_executions WHERE node_id = ${node}`;
    expect(rows.map((x) => x.output)).toEqual(["again"]);
    expect((await eventsOf(run)).filter((e) => e.startsWith("run"))).toEqual(["run pending", "run running"]);
  });

  it("writes nothing for a run that has finished, and says so; live answers per run", async () => {
    const log = createNodeExecutionLog(sql);
    const [done, going] = [await newRun("succeeded"), await newRun()];
    const attempt = (run: string) => ({
      run_id: run,
      node_id: randomUUID(),
      node_name: "z",
      type: "t",
      attempt: 1,
      input: null,
      status: "succeeded" as const,
      output: 1,
      error: null,
      duration_ms: 1,
    });
    expect(await Promise.all([log.recorded(attempt(done)), log.recorded(attempt(going))])).toEqual([false, true]);
    expect(await Promise.all([log.live(done), log.live(going), log.live(randomUUID())])).toEqual([
      false,
      true,
      false,
    ]);
    expect(await sql`SELECT 1 FROM node_executions WHERE run_id = ${done}`).toHaveLength(0);
    expect((await sql`SELECT status FROM workflow_runs WHERE id = ${done}`)[0].status).toBe("succeeded");
  });

  it("a running row back-dates started_at by the attempt's elapsed time and begins a pending run", async () => {
    const log = createNodeExecutionLog(sql);
    const run = await newRun("pending");
    const id = await log.started({
      run_id: run,
      node_id: randomUUID(),
      node_name: "long",
      type: "t",
      attempt: 1,
      input: {},
      elapsed_ms: 200,
    });
    const [row] = await sql`SELECT now() - started_at >= interval '200 ms' AS dated FROM node_executions
                              WHERE id = ${id!}`;
    expect(row.dated).toBe(true);
    expect(await eventsOf(run)).toEqual(["run pending", "run running", "node long running"]);
  });
});
