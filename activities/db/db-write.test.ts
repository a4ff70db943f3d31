/** db_write through real runs: structured and raw SQL, injection attempts, the tenant's sandbox, exactly-once. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import { sandboxUrlFor, tenantRole } from "../../db/sandbox.ts";
import { TEST_DATABASE_URL } from "../../test/env.ts";
import { buildWorkflow, call, setupApp, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";
import { type Spawned, startWorker } from "../../test/processes.ts";

/** The sandbox database as Weft's own role, to look at what the nodes did (in alice's schema). */
const admin = postgres(sandboxUrlFor(TEST_DATABASE_URL), { max: 2, onnotice: () => {} });
const table = `orders_${process.pid}`;
/** alice's table as the admin names it: "<her schema>".orders_<pid>. */
let qualified: string;

const t = useApiHarness();
beforeAll(async () => {
  qualified = `"${tenantRole(new URL(sandboxUrlFor(TEST_DATABASE_URL)).pathname.slice(1), t.alice.id)}".${table}`;
  // The tenant makes its own table: its first db_write provisions its schema and role.
  const made = await runNode({
    statements: [
      {
        sql:
          `CREATE TABLE ${table} (id serial PRIMARY KEY, customer text NOT NULL, amount numeric, note text, meta jsonb)`,
      },
      { sql: `INSERT INTO ${table} (customer, amount) VALUES ('ada', 10), ('bob', 20), ('cy', 30)` },
    ],
  });
  expect(made.status, JSON.stringify(made.error)).toBe("succeeded");
});
afterAll(() => admin.end());

async function runNode(config: Record<string, unknown>, input: Record<string, unknown> = {}, app = t) {
  const { workflowId } = await buildWorkflow(app.app, t.alice.token, [{ name: "db", type: "db_write", config }]);
  const started =
    (await call(app.app, "POST", `/api/workflows/${workflowId}/execute`, { token: t.alice.token, body: { input } }))
      .body;
  return await waitForRun(app.app, t.alice.token, workflowId, started.run_id, 60_000);
}

describe("db_write", () => {
  it("inserts with templated values as bound parameters and returns the rows", async () => {
    const run = await runNode(
      {
        operation: "insert",
        table,
        values: { customer: "{{input.who}}", amount: "{{input.amount}}", meta: { src: "{{input.src}}" } },
        returning: ["id", "customer", "amount"],
      },
      { who: "dee", amount: 42.5, src: "api" },
    );
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded");
    expect(run.output.db.row_count).toBe(1);
    expect(run.output.db.rows[0]).toMatchObject({ customer: "dee", amount: "42.5" });
    const [row] = await admin.unsafe(`SELECT meta FROM ${qualified} WHERE customer = 'dee'`);
    expect(row.meta).toEqual({ src: "api" });
  });

  it("selects, updates and deletes with equality, in and null checks", async () => {
    const sel = await runNode({
      operation: "select",
      table,
      columns: ["customer"],
      where: { customer: { in: ["ada", "bob"] }, note: null },
    });
    expect(sel.output.db.rows.map((r: { customer: string }) => r.customer).sort()).toEqual(["ada", "bob"]);
    const upd = await runNode({
      operation: "update",
      table,
      values: { note: "vip" },
      where: { customer: "{{input.c}}" },
      returning: "*",
    }, { c: "cy" });
    expect(upd.output.db).toMatchObject({ row_count: 1, rows: [{ customer: "cy", note: "vip" }] });
    const del = await runNode({ operation: "delete", table, where: { note: { is_null: false } } });
    expect(del.output.db.row_count).toBe(1);
    expect((await admin.unsafe(`SELECT count(*)::int AS n FROM ${qualified} WHERE customer = 'cy'`))[0].n).toBe(0);
  });

  it("runs raw SQL with $n parameters, and several statements in one transaction", async () => {
    const raw = await runNode({
      sql: `SELECT count(*)::int AS n FROM ${table} WHERE amount > $1`,
      params: ["{{input.min}}"],
    }, { min: 15 });
    expect(raw.output.db.rows[0].n).toBeGreaterThanOrEqual(1);
    const before = (await admin.unsafe(`SELECT count(*)::int AS n FROM ${qualified}`))[0].n;
    const failing = await runNode({
      statements: [
        { operation: "insert", table, values: { customer: "tx-1" } },
        { operation: "insert", table, values: { customer: null } }, // violates NOT NULL
      ],
    });
    expect(failing.status).toBe("failed");
    expect(failing.node_executions[0].error).toMatchObject({ type: "DbError", retryable: false });
    expect((await admin.unsafe(`SELECT count(*)::int AS n FROM ${qualified}`))[0].n).toBe(before); // rolled back
  });

  it("caps rows and times out long statements", async () => {
    const capped = await runNode({ operation: "select", table, max_rows: 1 });
    expect(capped.output.db.rows).toHaveLength(1);
    const slow = await runNode({ sql: "SELECT pg_sleep(3)", timeout_ms: 200, retry: { max_attempts: 1 } });
    expect(slow.status).toBe("failed");
    expect(slow.node_executions[0].error.type).toBe("Timeout");
  });
});

describe("SQL injection", () => {
  const nasty = [
    "'; DROP TABLE users; --",
    "x' OR '1'='1",
    'a"; DELETE FROM orders; --',
    "1; SELECT pg_sleep(5)",
    "/* */ UNION SELECT * FROM pg_authid --",
  ];

  it("values and where clauses full of quotes, semicolons and comments change only the intended row", async () => {
    const before = await admin.unsafe(`SELECT id, customer, note FROM ${qualified} ORDER BY id`);
    for (const evil of nasty) {
      const ins = await runNode({
        operation: "insert",
        table,
        values: { customer: "{{input.evil}}", note: evil },
        returning: ["customer", "note"],
      }, { evil });
      expect(ins.output.db.rows[0]).toEqual({ customer: evil, note: evil });
      const upd = await runNode({
        operation: "update",
        table,
        values: { note: "touched" },
        where: { customer: "{{input.evil}}" },
      }, { evil });
      expect(upd.output.db.row_count).toBe(1);
      const sel = await runNode({
        sql: `SELECT count(*)::int AS n FROM ${table} WHERE customer = $1`,
        params: ["{{input.evil}}"],
      }, { evil });
      expect(sel.output.db.rows[0].n).toBe(1);
    }
    const after = await admin.unsafe(`SELECT id, customer, note FROM ${qualified} WHERE id = ANY($1) ORDER BY id`, [
      before.map((r) => r.id),
    ]);
    expect(after).toEqual(before); // earlier rows untouched
    // Weft's own database is intact.
    expect((await t.sql`SELECT count(*)::int AS n FROM users`)[0].n).toBeGreaterThan(0);
  });

  it("identifiers that are not plain names, and templates inside SQL text, are refused when the node is saved", async () => {
    const wf = (await call(t.app, "POST", "/api/workflows", { token: t.alice.token, body: { name: "inj" } })).body.id;
    const add = (config: unknown) =>
      call(t.app, "POST", `/api/workflows/${wf}/nodes`, {
        token: t.alice.token,
        body: { name: `n${Math.random().toString(36).slice(2, 8)}`, type: "db_write", config },
      });
    expect((await add({ operation: "select", table: "orders; DROP TABLE users" })).status).toBe(400);
    expect((await add({ operation: "select", table: "{{input.table}}" })).status).toBe(400);
    expect((await add({ operation: "select", table, columns: ['id" FROM users --'] })).status).toBe(400);
    const tpl = await add({ sql: "SELECT * FROM t WHERE a = '{{input.a}}'" });
    expect(tpl.status).toBe(400);
    expect(tpl.body.error.details[0].message).toMatch(/templates are not allowed in sql/);
  });

  it("the tenant's sandbox role cannot reach Weft's tables", async () => {
    const run = await runNode({ sql: "SELECT * FROM users", retry: { max_attempts: 1 } });
    expect(run.status).toBe("failed");
    expect(run.node_executions[0].error.type).toBe("DbError");
    const role = qualified.split(".")[0].replaceAll('"', "");
    const intoWeft = postgres(TEST_DATABASE_URL.replace("postgres@", `${role}@`), { max: 1, onnotice: () => {} });
    await expect(intoWeft`SELECT * FROM users`).rejects.toThrow(/permission denied for database/);
    await intoWeft.end();
  });
});

describe("exactly once", () => {
  let crashing: Spawned | undefined;
  let healthy: Spawned | undefined;
  afterAll(async () => {
    await Promise.all([crashing?.stop("SIGKILL"), healthy?.stop()]);
  });

  // A local db_write (timeout_ms ≤ 10 s) is re-executed from its workflow task on the next worker: the attempt
  // after the lost one still finds the ledger row.
  it.each([["an activity", {}], ["a local activity", { timeout_ms: 5000 }]])(
    "a worker killed right after the commit does not make the next attempt write twice (%s)",
    async (_kind, extra) => {
      const queue = `weft-crash-${process.pid}-${Object.keys(extra).length}`;
      const crashApp = await setupApp({ WEFT_TASK_QUEUE: queue });
      crashing = await startWorker(queue, { WEFT_TEST_FAULT: "crash_after_db_commit" }, "test/fault-worker.ts");
      const exited = new Promise((r) => crashing!.proc.once("exit", r));
      const marker = `once-${crypto.randomUUID()}`;
      const { workflowId } = await buildWorkflow(crashApp.app, t.alice.token, [{
        name: "db",
        type: "db_write",
        config: { operation: "insert", table, values: { customer: marker }, returning: ["id"], ...extra },
      }]);
      const started = (await call(crashApp.app, "POST", `/api/workflows/${workflowId}/execute`, {
        token: t.alice.token,
        body: { input: {} },
      })).body;
      await exited; // the worker died after committing, before Temporal heard of it
      expect((await admin.unsafe(`SELECT count(*)::int AS n FROM ${qualified} WHERE customer = $1`, [marker]))[0].n)
        .toBe(
          1,
        );
      healthy = await startWorker(queue);
      const run = await waitForRun(crashApp.app, t.alice.token, workflowId, started.run_id, 90_000);
      expect(run.status).toBe("succeeded");
      expect((await admin.unsafe(`SELECT count(*)::int AS n FROM ${qualified} WHERE customer = $1`, [marker]))[0].n)
        .toBe(
          1,
        );
      const attempts = run.node_executions.map((n: { attempt: number; status: string }) => [n.attempt, n.status]);
      expect(attempts).toEqual([[1, "failed"], [2, "succeeded"]]);
      expect(run.output.db.replayed).toBe(true);
      const executions = new Set(run.node_executions.map((n: { execution: string | null }) => n.execution));
      expect([...executions]).toEqual(["timeout_ms" in extra ? "local" : "activity"]);
      await Promise.all([crashing?.stop("SIGKILL"), healthy?.stop()]);
    },
    120_000,
  );
});
