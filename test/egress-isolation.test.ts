/**
 * Issue 10, properties 1 and 2, as attacks through real runs: nodes cannot reach Weft's control plane
 * (Temporal gRPC and HTTP, its PostgreSQL server, the worker's metrics) even though 127.0.0.1 is allowed;
 * db_write reaches only operator-declared connections, never as a too-powerful role nor Weft's own server;
 * one tenant's SQL cannot read or change another's sandbox tables or ledger, nor roles and database settings.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provisionTenant, sandboxUrlFor, tenantPassword, tenantRole } from "../db/sandbox.ts";
import { TEST_DATABASE_URL, TEST_SECRETS_KEY, TEST_TEMPORAL_PORT } from "./env.ts";
import { type TestUser as User, useApiHarness } from "./harness.ts";
import { buildWorkflow, call, json, registerUser, waitForRun } from "./helpers.ts";
import { type Spawned, startWorker } from "./processes.ts";
import { freePort } from "./stack.ts";
import { type SecondPostgres, startSecondPostgres } from "./second-postgres.ts";

const queue = `weft-isolation-${process.pid}`;
const sandboxDb = new URL(sandboxUrlFor(TEST_DATABASE_URL)).pathname.slice(1);
const admin = postgres(sandboxUrlFor(TEST_DATABASE_URL), { max: 3, onnotice: () => {} });
const t = useApiHarness({
  env: { WEFT_TASK_QUEUE: queue },
  upstream: (_req, _body, res) => json(res, 200, { ok: true }),
});
let worker: Spawned;
let pg2: SecondPostgres;
let metricsPort: number;

beforeAll(async () => {
  [pg2, metricsPort] = await Promise.all([startSecondPostgres(), freePort()]);
  const other = postgres(pg2.url("postgres"), { max: 1, onnotice: () => {} });
  for (
    const statement of [
      "CREATE ROLE app LOGIN",
      "CREATE DATABASE appdb OWNER app",
      "CREATE ROLE boss LOGIN SUPERUSER",
      "CREATE ROLE maker LOGIN CREATEROLE",
      "CREATE ROLE shell LOGIN",
      "GRANT pg_execute_server_program TO shell",
    ]
  ) await other.unsafe(statement);
  await other.end();
  const appdb = postgres(pg2.url("app", "appdb"), { max: 1, onnotice: () => {} });
  await appdb`CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL)`;
  await appdb.end();
  worker = await startWorker(queue, {
    WORKER_METRICS_PORT: String(metricsPort),
    WEFT_DB_CONNECTIONS: JSON.stringify({
      orders: pg2.url("app", "appdb"),
      boss: pg2.url("boss", "appdb"),
      maker: pg2.url("maker", "appdb"),
      shell: pg2.url("shell", "appdb"),
      weft: TEST_DATABASE_URL,
      weft_by_name: TEST_DATABASE_URL.replace("127.0.0.1", "localhost"),
      weft_sandbox: sandboxUrlFor(TEST_DATABASE_URL),
    }),
  });
}, 120_000);

afterAll(async () => {
  await Promise.all([worker?.stop(), admin.end()]);
  pg2?.stop();
});

async function runNode(user: User, config: Record<string, unknown>, type = "db_write") {
  const { workflowId } = await buildWorkflow(t.app, user.token, [{
    name: "n",
    type,
    config: { retry: { max_attempts: 1 }, ...config },
  }]);
  const started = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
    token: user.token,
    body: { input: {} },
  });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  return await waitForRun(t.app, user.token, workflowId, started.body.run_id, 60_000);
}

const nodeError = (run: { node_executions: { error: { type: string; message: string } }[] }) =>
  run.node_executions[0].error;

describe("property 1: nodes never reach Weft's control plane", () => {
  it("http_request to Temporal gRPC/HTTP, PostgreSQL and the worker metrics port fails; a normal 127.0.0.1 upstream works", async () => {
    const evil = `evil-${crypto.randomUUID()}`;
    const targets = [
      `http://127.0.0.1:${TEST_TEMPORAL_PORT}/`,
      `http://127.0.0.1:${TEST_TEMPORAL_PORT + 10}/api/v1/namespaces/default/workflows/${evil}`,
      "http://127.0.0.1:5432/",
      `http://127.0.0.1:${metricsPort}/metrics`,
      `http://127.0.0.2:${metricsPort}/metrics`,
    ];
    const [ok, ...runs] = await Promise.all([
      runNode(t.alice, { url: `${t.upstream.url}/hello` }, "http_request"),
      ...targets.map((url) =>
        runNode(t.alice, {
          url,
          method: "POST",
          body: { workflowType: { name: "runDag" }, taskQueue: { name: queue } },
        }, "http_request")
      ),
    ]);
    expect(ok.status, JSON.stringify(ok.node_executions)).toBe("succeeded");
    expect(ok.output.n.body).toEqual({ ok: true });
    expect(t.upstream.requests.map((r) => r.url)).toEqual(["/hello"]);
    for (const [i, run] of runs.entries()) {
      expect(run.status, targets[i]).toBe("failed");
      expect(nodeError(run), targets[i]).toMatchObject({ type: "EgressBlocked" });
      // 127.0.0.2 is not even on the allow list; the others are, and are refused as the control plane.
      if (!targets[i].includes("127.0.0.2")) expect(nodeError(run).message, targets[i]).toMatch(/Weft's own infra/);
    }
    // The POST to Temporal's HTTP API started nothing.
    await expect(t.temporal.workflow.getHandle(evil).describe()).rejects.toThrow(/not found/i);
  });
});

describe("property 2: db_write connects only where the operator said, never as a superuser, never to Weft's DB", () => {
  it("a declared connection to a second PostgreSQL server, with an ordinary role, works", async () => {
    const run = await runNode(t.alice, {
      connection: "orders",
      operation: "insert",
      table: "orders",
      values: { customer: "ada" },
      returning: ["customer"],
    });
    expect(run.status, JSON.stringify(nodeError(run))).toBe("succeeded");
    expect(run.output.n.rows).toEqual([{ customer: "ada" }]);
    const appdb = postgres(pg2.url("app", "appdb"), { max: 1, onnotice: () => {} });
    expect(await appdb`SELECT customer FROM orders`).toEqual([{ customer: "ada" }]);
    await appdb.end();
  });

  it("superuser, CREATEROLE and server-program roles are refused before any statement; nothing is written", async () => {
    const runs = await Promise.all(["boss", "maker", "shell"].map((connection) =>
      runNode(t.alice, {
        connection,
        statements: [
          { operation: "insert", table: "orders", values: { customer: `via-${connection}` } },
          { sql: "CREATE ROLE pwned SUPERUSER LOGIN" },
        ],
      })
    ));
    const messages = runs.map((run) => {
      expect(run.status).toBe("failed");
      expect(nodeError(run).type, JSON.stringify(nodeError(run))).toBe("ConnectionRefused");
      return nodeError(run).message;
    });
    expect(messages[0]).toMatch(/connection "boss" logs in as a role that is a superuser/);
    expect(messages[1]).toMatch(/connection "maker" logs in as a role that can create roles/);
    expect(messages[2]).toMatch(/connection "shell" .*pg_execute_server_program/);
    const other = postgres(pg2.url("postgres", "appdb"), { max: 1, onnotice: () => {} });
    expect((await other`SELECT count(*)::int AS n FROM orders WHERE customer LIKE 'via-%'`)[0].n).toBe(0);
    expect(await other`SELECT 1 FROM pg_roles WHERE rolname = 'pwned'`).toEqual([]);
    await other.end();
  });

  it("connections to Weft's own PostgreSQL server (its database, by another name, or the sandbox) are refused", async () => {
    const usersBefore = await t.sql`SELECT id, email, password_hash FROM users ORDER BY id`;
    const runs = await Promise.all(["weft", "weft_by_name", "weft_sandbox"].map((connection) =>
      runNode(t.alice, {
        connection,
        sql: "UPDATE users SET password_hash = 'x' RETURNING id",
      })
    ));
    for (const run of runs) {
      expect(run.status).toBe("failed");
      expect(nodeError(run).type).toBe("EgressBlocked");
      expect(nodeError(run).message).toMatch(/5432 is Weft's own infrastructure \(Weft's PostgreSQL server/);
    }
    expect(await t.sql`SELECT id, email, password_hash FROM users ORDER BY id`).toEqual(usersBefore);
  });

  it("a URL or secret as connection is refused at save and, in a node saved before, at execute (400)", async () => {
    const wf =
      (await call(t.app, "POST", "/api/workflows", { token: t.alice.token, body: { name: "legacy" } })).body.id;
    for (const connection of ["{{secrets.ORDERS_DB}}", TEST_DATABASE_URL, "nope!"]) {
      const res = await call(t.app, "POST", `/api/workflows/${wf}/nodes`, {
        token: t.alice.token,
        body: { name: "n", type: "db_write", config: { connection, operation: "select", table: "users" } },
      });
      expect(res.status, connection).toBe(400);
      expect(JSON.stringify(res.body.error), connection).toMatch(/connection/);
    }
    const saved = await call(t.app, "POST", `/api/workflows/${wf}/nodes`, {
      token: t.alice.token,
      body: {
        name: "n",
        type: "db_write",
        config: { operation: "select", table: "users", retry: { max_attempts: 1 } },
      },
    });
    expect(saved.status).toBe(201);
    // A node saved before named connections existed: its connection is a secret holding a URL.
    await call(t.app, "POST", "/api/secrets", {
      token: t.alice.token,
      body: { name: "ORDERS_DB", value: TEST_DATABASE_URL },
    });
    await t
      .sql`UPDATE nodes SET config = config || '{"connection": "{{secrets.ORDERS_DB}}"}' WHERE id = ${saved.body.id}`;
    // Executing it is refused with the same explanation (the worker checks it too, before any secret is read).
    const started = await call(t.app, "POST", `/api/workflows/${wf}/execute`, { token: t.alice.token, body: {} });
    expect(started.status).toBe(400);
    expect(started.body.error.message).toMatch(/no longer takes a URL or a secret.*WEFT_DB_CONNECTIONS/);
    const undeclared = await runNode(t.alice, { connection: "billing", operation: "select", table: "orders" });
    expect(nodeError(undeclared)).toMatchObject({ type: "ConnectionNotDeclared" });
    expect(nodeError(undeclared).message).toMatch(/no database connection named "billing".*declared: orders, boss/);
  });
});

describe("property 2: each tenant's sandbox is its own", () => {
  const schemaOf = (user: User) => tenantRole(sandboxDb, user.id);
  const snapshot = async (user: User) => ({
    rows: await admin.unsafe(`SELECT * FROM "${schemaOf(user)}".notes ORDER BY id`),
    ledger: await admin.unsafe(`SELECT key, output FROM "${schemaOf(user)}".weft_execution_ledger ORDER BY key`),
  });

  it("tenant B cannot read or change tenant A's tables or ledger, nor escape its role", async () => {
    const made = await runNode(t.alice, {
      statements: [
        { sql: "CREATE TABLE notes (id serial PRIMARY KEY, body text)" },
        { sql: "INSERT INTO notes (body) VALUES ('alice private')" },
      ],
    });
    expect(made.status, JSON.stringify(nodeError(made))).toBe("succeeded");
    // The reserved connection name "sandbox" is the same as none: the caller's own sandbox.
    const first = await runNode(t.bob, { connection: "sandbox", sql: "SELECT current_user AS who" });
    expect(first.output.n.rows).toEqual([{ who: schemaOf(t.bob) }]);
    const before = await snapshot(t.alice);
    expect(before.rows).toEqual([{ id: 1, body: "alice private" }]);
    expect(before.ledger).toHaveLength(1);
    const a = `"${schemaOf(t.alice)}"`;
    const attacks: (string | { sql: string }[])[] = [
      `SELECT * FROM ${a}.notes`,
      `UPDATE ${a}.notes SET body = 'bob was here'`,
      `SELECT * FROM ${a}.weft_execution_ledger`,
      `DELETE FROM ${a}.weft_execution_ledger`,
      `INSERT INTO ${a}.weft_execution_ledger (key, output) VALUES ('x', '{}')`,
      `DELETE FROM weft_execution_ledger`, // not even its own ledger
      `DROP SCHEMA "${schemaOf(t.bob)}" CASCADE`,
      `SET ROLE ${a}`,
      [{ sql: "RESET ROLE" }, { sql: `SELECT * FROM ${a}.notes` }],
      "SET SESSION AUTHORIZATION postgres",
      `ALTER ROLE ${a} PASSWORD 'stolen'`,
      "ALTER ROLE CURRENT_USER SUPERUSER",
      "CREATE ROLE evil LOGIN",
      `ALTER DATABASE "${sandboxDb}" SET statement_timeout = 0`,
      "CREATE EXTENSION dblink",
      "CREATE EXTENSION postgres_fdw",
      "COPY (SELECT 1) TO PROGRAM 'id'",
      "SELECT pg_read_file('/etc/passwd')",
      "CREATE TEMP TABLE t (x int)",
      "CREATE TABLE public.shared (x int)",
    ];
    const runs = await Promise.all(
      attacks.map((sql) => runNode(t.bob, typeof sql === "string" ? { sql } : { statements: sql })),
    );
    for (const [i, run] of runs.entries()) {
      const what = JSON.stringify(attacks[i]);
      expect(run.status, what).toBe("failed");
      expect(nodeError(run).type, what).toBe("DbError");
      expect(nodeError(run).message, what).toMatch(/permission denied|must be|privilege/);
    }
    expect(await snapshot(t.alice)).toEqual(before);
    // Bob's role has no way into Weft's own database, and no powers to gain.
    const [role] = await t.sql`SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls,
      has_database_privilege(rolname, current_database(), 'CONNECT') AS weft_connect
      FROM pg_roles WHERE rolname = ${schemaOf(t.bob)}`;
    expect(role).toEqual({
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
      rolreplication: false,
      rolbypassrls: false,
      weft_connect: false,
    });
    // Alice's node still works, and her earlier result is still replayed from her ledger.
    const again = await runNode(t.alice, { sql: "SELECT body FROM notes" });
    expect(again.output.n.rows).toEqual([{ body: "alice private" }]);
  });

  it("concurrent first use of one tenant provisions once and both runs succeed", async () => {
    const carol = await registerUser(t.app, "carol");
    const runs = await Promise.all([1, 2].map((n) => runNode(carol, { sql: `SELECT ${n} AS n` })));
    expect(runs.map((r) => r.status)).toEqual(["succeeded", "succeeded"]);
    // Two processes at once (the worker's pool memo does not help there): both succeed.
    const dave = crypto.randomUUID();
    const admins = [1, 2].map(() => postgres(sandboxUrlFor(TEST_DATABASE_URL), { max: 1, onnotice: () => {} }));
    const role = tenantRole(sandboxDb, dave);
    await Promise.all(
      admins.map((sql) => provisionTenant(sql, role, tenantPassword(TEST_SECRETS_KEY, sandboxDb, dave))),
    );
    await Promise.all(admins.map((sql) => sql.end()));
    expect((await admin`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = ${role}`)[0].n).toBe(1);
  });
});
