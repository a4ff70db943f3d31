/**
 * bench/bookkeeping: the PostgreSQL writes of a 3-node chain run, as the worker made them before issue 16 (a
 * markRunStarted statement, a running row then its end per attempt, the run's end) beside how it makes them now
 * (per attempt a liveness read and one row, which also begins the run; the run's end), against the bench
 * database, no Temporal. Prints per run: statements, run_events rows (= NOTIFYs the API handles), wall time, CPU of
 * this process and of the PostgreSQL backends; rounds alternate, medians.
 * Usage: BENCH_DATABASE_URL=… node --import tsx bench/bookkeeping.ts [runs per round=300] [concurrency=50] [rounds=3]
 */
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { migrate } from "../db/migrate.ts";
import { createNodeExecutionLog } from "../db/node-executions.ts";
import { pidsMs } from "./proc-cpu.ts";
import { BENCH_DATABASE_URL } from "./stack.ts";

const [runs, concurrency, rounds] = [300, 50, 3].map((d, i) => Number(process.argv[2 + i] ?? d));
await migrate(BENCH_DATABASE_URL);
const sql = postgres(BENCH_DATABASE_URL, { max: 10, onnotice: () => {} });
const log = createNodeExecutionLog(sql);
const [{ id: owner }] = await sql`INSERT INTO users (email, password_hash) VALUES (${randomUUID() + "@b"}, 'x')
                                  RETURNING id`;
const [{ id: workflow }] = await sql`INSERT INTO workflows (owner_id, name) VALUES (${owner}, 'bk') RETURNING id`;
const nodes = ["a", "b", "c"].map((name) => ({ id: randomUUID(), name }));
const finish = (runId: string) =>
  sql`UPDATE workflow_runs SET status = 'succeeded', output = ${sql.json({ c: 1 })}, error = NULL,
        finished_at = now() WHERE id = ${runId} AND status IN ('running', 'waiting') RETURNING 1`;

/** One run's writes; answers the statements made. */
const variants: Record<string, (runId: string) => Promise<number>> = {
  before: async (runId) => {
    await sql`UPDATE workflow_runs SET status = 'running', started_at = coalesce(started_at, now())
              WHERE id = ${runId} AND status = 'pending'`;
    for (const n of nodes) {
      const base = { run_id: runId, node_id: n.id, node_name: n.name, type: "http_request", attempt: 1 };
      const id = await log.started({ ...base, input: { url: "x" } });
      await log.finished({
        id: id!,
        run_id: runId,
        status: "succeeded",
        output: { ok: 1 },
        error: null,
        duration_ms: 2,
      });
    }
    await finish(runId);
    return 8;
  },
  after: (runId) => lean(runId, true),
  /** Nodes whose handlers act on nothing outside the worker (transform): no liveness read. */
  after_pure: (runId) => lean(runId, false),
};

async function lean(runId: string, read: boolean): Promise<number> {
  for (const n of nodes) {
    const base = { run_id: runId, node_id: n.id, node_name: n.name, type: "http_request", attempt: 1 };
    if (read && !(await log.live(runId))) throw new Error("not live");
    await log.recorded({
      ...base,
      input: { url: "x" },
      status: "succeeded",
      output: { ok: 1 },
      error: null,
      duration_ms: 2,
    });
  }
  await finish(runId);
  return read ? 7 : 4;
}

async function round(name: string) {
  const ids = Array.from({ length: runs }, () => randomUUID());
  await sql`INSERT INTO workflow_runs ${
    sql(ids.map((id) => ({
      id,
      workflow_id: workflow,
      owner_id: owner,
      status: "pending",
      snapshot: sql.json({}),
      version_hash: "h",
      workflow_version: 1,
      temporal_workflow_id: `bk-${id}`,
    })))
  }`;
  const [{ last }] = await sql`SELECT coalesce(max(id), 0)::text AS last FROM run_events`;
  const backends = async () =>
    (await sql`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`).map((r) => Number(r.pid));
  const pg0 = pidsMs(await backends());
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  let statements = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < ids.length) {
      const made = await variants[name](ids[next++]);
      statements += made;
    }
  }));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const pg1 = pidsMs(await backends());
  const pgMs = [...pg1].reduce((t, [pid, ms]) => t + ms - (pg0.get(pid) ?? 0), 0);
  const [{ events }] = await sql`SELECT count(*)::int AS events FROM run_events WHERE id > ${last}
                                 AND run_id IN ${sql(ids)}`;
  const bad = await sql`SELECT count(*)::int AS n FROM workflow_runs WHERE id IN ${sql(ids)}
                        AND (status <> 'succeeded' OR started_at IS NULL)`;
  if (bad[0].n) throw new Error(`${bad[0].n} runs did not end succeeded with a started_at`);
  return {
    statements: statements / runs,
    events: events / runs,
    wall_ms: wall / runs,
    client_cpu_ms: (cpu.user + cpu.system) / 1000 / runs,
    pg_cpu_ms: pgMs / runs,
  };
}

const results: Record<string, Record<string, number>[]> = { before: [], after: [], after_pure: [] };
for (let r = 0; r < rounds; r++) {
  const order = ["before", "after", "after_pure"];
  for (const name of r % 2 ? order.reverse() : order) results[name].push(await round(name));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `bookkeeping writes of a 3-node chain run, ${runs} runs x ${rounds} rounds, ${concurrency} at once (per run):`,
);
for (const key of Object.keys(results.before[0])) {
  const [b, a, p] = ["before", "after", "after_pure"].map((v) => median(results[v].map((x) => x[key])));
  const cell = (x: number) => `${x.toFixed(2).padStart(7)} (${(x / b).toFixed(2)}x)`;
  console.log(`  ${key.padEnd(14)} before ${b.toFixed(2).padStart(7)}  after ${cell(a)}  after, transform ${cell(p)}`);
}
await sql`DELETE FROM users WHERE id = ${owner}`;
await sql.end();
