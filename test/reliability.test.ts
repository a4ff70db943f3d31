/**
 * Reliability under faults, with real processes: the Deno API (spawned, small pools), the global test stack's
 * Temporal dev server and worker, and a proxy in front of Temporal's HTTP API (test/temporal-proxy.ts) that
 * parks a run's workflow start at a chosen step so the test can kill -9 the API exactly there.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Sql } from "../db/client.ts";
import { TEST_DATABASE_URL, TEST_TASK_QUEUE, TEST_TEMPORAL_HTTP_URL } from "./env.ts";
import { json, startUpstream, type Upstream } from "./helpers.ts";
import { type Spawned, startDenoApi } from "./processes.ts";
import { ApiClient, freePort, kill9, ProcessSet, sleep, waitFor } from "./stack.ts";
import { startTemporalProxy, type TemporalProxy } from "./temporal-proxy.ts";

const procs = new ProcessSet();
let proxy: TemporalProxy;
let upstream: Upstream;
let sql: Sql;
let token = "";

interface Api {
  proc: Spawned;
  client: ApiClient;
}

/** A fresh API process on a port of its own, reaching Temporal through the proxy; the sweeper off unless asked. */
async function startApi(env: Record<string, string> = {}): Promise<Api> {
  const port = await freePort();
  const proc = procs.track(
    await startDenoApi(port, TEST_TASK_QUEUE, {
      TEMPORAL_HTTP_ADDRESS: proxy.url,
      LOG_REQUESTS: "false",
      WEFT_ORPHAN_SWEEP_MS: "0",
      ...env,
    }),
  );
  const client = new ApiClient(`http://127.0.0.1:${port}`);
  client.token = token;
  return { proc, client };
}

/** POST execute with an Idempotency-Key; a connection the dying API drops resolves to null. */
async function keyedExecute(api: Api, workflowId: string, key?: string) {
  try {
    const res = await fetch(`${api.client.base}/api/workflows/${workflowId}/execute`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${token}`,
        ...(key ? { "idempotency-key": key } : {}),
      },
      body: JSON.stringify({ input: {} }),
    });
    return { status: res.status, headers: res.headers, body: await res.json() };
  } catch {
    return null;
  }
}

const runsOf = (workflowId: string) =>
  sql`SELECT id, status, temporal_run_id FROM workflow_runs WHERE workflow_id = ${workflowId} ORDER BY created_at`;

const waitForStatuses = (workflowId: string, expected: string[], timeoutMs = 45_000) =>
  waitFor(
    `runs of ${workflowId} to be ${expected}`,
    async () => {
      const rows = await runsOf(workflowId);
      const statuses = rows.map((r) => r.status as string).sort();
      return JSON.stringify(statuses) === JSON.stringify([...expected].sort()) ? rows : undefined;
    },
    timeoutMs,
    200,
    () => "",
  );

const hits = (path: string) => upstream.requests.filter((r) => new URL(r.url, "http://x").pathname === path).length;

/** A one-node workflow whose node calls upstream `/<path>`. */
async function oneNode(client: ApiClient, path: string) {
  return await client.chain(path, [{ name: "call", config: { url: `${upstream.url}/${path}` } }]);
}

beforeAll(async () => {
  sql = connect(TEST_DATABASE_URL, { max: 2 });
  upstream = await startUpstream((_req, _body, res) => json(res, 200, { ok: true }));
  proxy = await startTemporalProxy(TEST_TEMPORAL_HTTP_URL);
  const first = await startApi();
  await first.client.login("reliab");
  token = first.client.token;
  await first.proc.stop();
});

afterAll(async () => {
  await procs.stopAll(5000);
  await proxy?.close();
  await upstream?.close();
  await sql?.end();
});

describe("no wedged API", () => {
  it(
    "50 concurrent keyed executes on a pool of 2 connections: all answer, one run per key, login still answers",
    async () => {
      const api = await startApi({ WEFT_DB_POOL_MAX: "2" });
      const wf = await oneNode(api.client, "burst");
      const keys = Array.from({ length: 10 }, (_, i) => `burst-${i}-${crypto.randomUUID()}`);
      const burst = Promise.all(keys.flatMap((key) => Array.from({ length: 5 }, () => keyedExecute(api, wf, key))));
      const other = new ApiClient(api.client.base);
      const login = other.login("during-burst").then(() => true);
      const answered = await Promise.race([
        Promise.all([burst, login]),
        sleep(60_000).then(() => null),
      ]);
      expect(answered, `the API wedged:\n${api.proc.output().slice(-2000)}`).not.toBeNull();
      const [results, loggedIn] = answered!;
      expect(loggedIn).toBe(true);
      expect(results.map((r) => r?.status)).toEqual(Array(50).fill(202));
      for (const [i, key] of keys.entries()) {
        const mine = results.slice(i * 5, i * 5 + 5);
        expect(new Set(mine.map((r) => r!.body.run_id)).size, key).toBe(1);
        expect(mine.filter((r) => r!.headers.get("idempotent-replayed") !== "true"), key).toHaveLength(1);
      }
      const runs = await waitForStatuses(wf, Array(10).fill("succeeded"), 90_000);
      expect(new Set(runs.map((r) => r.id))).toEqual(new Set(results.map((r) => r!.body.run_id)));
      expect(hits("/burst")).toBe(10);
      expect((await api.client.request("GET", "/healthz")).status).toBe(200);
      await api.proc.stop();
    },
    150_000,
  );

  it(
    "liveness fails while every pooled connection is stuck, recovers after; SIGTERM ends the API mid-wedge",
    async () => {
      const api = await startApi({
        WEFT_DB_POOL_MAX: "2",
        WEFT_LIVENESS_POOL_TIMEOUT_MS: "1000",
        WEFT_SHUTDOWN_GRACE_MS: "2000",
        // A GPU queue no worker polls, as when KEDA scaled the GPU workers to zero.
        WEFT_GPU_TASK_QUEUE: "weft-gpu-scaled-to-zero",
      });
      const health = () => api.client.request("GET", "/healthz");
      expect((await health()).body).toMatchObject({ status: "ok", checks: { pool: "ok" } });
      const ready = await api.client.request("GET", "/readyz");
      expect(ready.status).toBe(200);
      // Whether workers poll each queue is reported, not required: the global test worker polls weft-test.
      expect(ready.body.workers[TEST_TASK_QUEUE]).toMatchObject({ polled: true });
      expect(ready.body.workers["weft-gpu-scaled-to-zero"]).toMatchObject({ polled: false, workflow: 0, activity: 0 });

      const lock = await sql.reserve();
      const wedge = async () => {
        await lock`BEGIN`;
        await lock`LOCK TABLE users IN ACCESS EXCLUSIVE MODE`;
        // Logins read users: each holds a pooled connection, stuck behind the lock, until none is left.
        return [1, 2, 3].map(() =>
          api.client.request("POST", "/api/auth/login", { email: "nobody@example.com", password: "not a password" })
            .catch(() => null)
        );
      };
      try {
        const stuck = await wedge();
        const wedged = await waitFor("liveness to fail", async () => {
          const res = await health();
          return res.status === 503 ? res.body : undefined;
        }, 20_000);
        expect(wedged).toMatchObject({ status: "wedged", checks: { postgres: "ok" } });
        expect(wedged.checks.pool).toMatch(/^unavailable/);
        expect((await api.client.request("GET", "/readyz")).status).toBe(503);

        await lock`ROLLBACK`;
        expect((await Promise.all(stuck)).map((r) => r?.status)).toEqual([401, 401, 401]);
        expect((await health()).status).toBe(200);

        await wedge();
        await waitFor("liveness to fail again", async () => (await health()).status === 503, 20_000);
        const t0 = Date.now();
        const exited = await Promise.race([api.proc.stop("SIGTERM").then(() => true), sleep(10_000).then(() => false)]);
        expect(exited, "SIGTERM did not end the wedged API").toBe(true);
        expect(Date.now() - t0).toBeLessThan(6000);
      } finally {
        await lock`ROLLBACK`.catch(() => {});
        lock.release();
      }
    },
    90_000,
  );
});

describe("every accepted run reaches a final state, whatever step the API dies at", () => {
  for (const step of ["hold-request", "hold-response"] as const) {
    const where = step === "hold-request" ? "before Temporal saw the start" : "after Temporal started it, unrecorded";
    it(`killed ${where}: a retry with the same key returns that run, which finishes once`, async () => {
      const first = await startApi();
      const path = `killed-${step}`;
      const wf = await oneNode(first.client, path);
      const key = `crash-${crypto.randomUUID()}`;
      proxy.mode = step;
      const parked = proxy.parked();
      const lost = keyedExecute(first, wf, key);
      await parked;
      await kill9(first.proc);
      proxy.mode = "pass";
      expect(await lost).toBeNull();
      const [orphan] = await runsOf(wf);
      expect(orphan).toMatchObject({ status: step === "hold-request" ? "pending" : expect.anything() });
      expect(orphan.temporal_run_id).toBeNull();

      const second = await startApi();
      const retry = await keyedExecute(second, wf, key);
      expect(retry?.status).toBe(202);
      expect(retry!.headers.get("idempotent-replayed")).toBe("true");
      expect(retry!.body.run_id).toBe(orphan.id);
      const [done] = await waitForStatuses(wf, ["succeeded"]);
      expect(done.id).toBe(orphan.id);
      expect(hits(`/${path}`)).toBe(1);
      await second.proc.stop();
    }, 120_000);
  }

  it("killed before Temporal saw the start, and no client retry: the orphan sweeper launches the run", async () => {
    const first = await startApi();
    const wf = await oneNode(first.client, "swept");
    proxy.mode = "hold-request";
    const parked = proxy.parked();
    const lost = keyedExecute(first, wf);
    await parked;
    await kill9(first.proc);
    proxy.mode = "pass";
    expect(await lost).toBeNull();
    expect((await runsOf(wf)).map((r) => r.status)).toEqual(["pending"]);
    const second = await startApi({ WEFT_ORPHAN_AFTER_MS: "500", WEFT_ORPHAN_SWEEP_MS: "300" });
    const [done] = await waitForStatuses(wf, ["succeeded"]);
    expect(done.temporal_run_id).toBeTruthy();
    expect(hits("/swept")).toBe(1);
    expect(second.proc.output()).toContain("orphaned run launched");
    await second.proc.stop();
  }, 120_000);
});

describe("Temporal unreachable", () => {
  it("execute answers 503 with Retry-After and leaves no run (nor its key) behind", async () => {
    const api = await startApi();
    const wf = await oneNode(api.client, "refused");
    const key = `refused-${crypto.randomUUID()}`;
    proxy.mode = "refuse";
    const refused = await keyedExecute(api, wf, key);
    const unkeyed = await keyedExecute(api, wf);
    proxy.mode = "pass";
    for (const res of [refused, unkeyed]) {
      expect(res?.status).toBe(503);
      expect(res!.headers.get("retry-after")).toBe("5");
      expect(res!.body.error.code).toBe("SERVICE_UNAVAILABLE");
    }
    expect(await runsOf(wf)).toHaveLength(0);
    expect(await sql`SELECT 1 FROM run_idempotency_keys WHERE key = ${key}`).toHaveLength(0);
    const later = await keyedExecute(api, wf, key);
    expect(later?.status).toBe(202);
    expect(later!.headers.get("idempotent-replayed")).toBeNull();
    await waitForStatuses(wf, ["succeeded"]);
    await api.proc.stop();
  }, 90_000);
});
