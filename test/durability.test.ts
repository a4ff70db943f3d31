/**
 * Durability with real processes: a worker killed with SIGKILL, the Temporal server stopped and started again on
 * its database file, the Deno API restarted, 500 runs at once. Everything here runs on a stack of its own
 * (test/stack.ts): its own Temporal dev server with a persistent database, its own API and workers on the task
 * queue `weft-durability`, which the global setup's worker never polls.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Sql } from "../db/client.ts";
import { TEST_DATABASE_URL } from "./env.ts";
import { json, startUpstream, type Upstream } from "./helpers.ts";
import { type Spawned, startWorker } from "./processes.ts";
import {
  ApiClient,
  freePort,
  type Json,
  kill9,
  portOpen,
  ProcessSet,
  sleep,
  startApi,
  startQueueWorker,
  TemporalDevServer,
  waitFor,
} from "./stack.ts";
import { isFinalRunStatus } from "../core/contract.ts";

const QUEUE = "weft-durability";
const temporal = new TemporalDevServer();
const procs = new ProcessSet();
let upstream: Upstream;
let sql: Sql;
let apiPort: number;
let api: Spawned;
let client: ApiClient;
let workers: Spawned[] = [];

const alive = (p: Spawned) => p.proc.exitCode === null && p.proc.signalCode === null;

async function addWorker() {
  const w = procs.track(await startQueueWorker(QUEUE, temporal.address));
  workers.push(w);
  return w;
}

/** A live API and at least one live worker, whatever an earlier (maybe failed) test left behind. */
async function ensureStack() {
  if (!temporal.running) temporal.start();
  workers = workers.filter(alive);
  await Promise.all([
    workers.length ? undefined : addWorker(),
    alive(api) ? undefined : startApi(apiPort, QUEUE, temporal.address).then((p) => (api = procs.track(p))),
  ]);
}

/** Upstream requests by path (query left out). */
const requestsTo = (path: string) => upstream.requests.filter((r) => new URL(r.url, "http://x").pathname === path);

/** What the processes said lately, for a failure message. */
const logs = () =>
  [
    `--- api\n${api?.output().slice(-3000)}`,
    ...workers.map((w, i) => `--- worker ${i}\n${w.output().slice(-3000)}`),
    `--- temporal\n${temporal.logTail()}`,
  ].join("\n");

const chainNodes = (prefix: string, names: string[], ms: number) =>
  names.map((name) => ({
    name,
    config: { url: `${upstream.url}/${prefix}/${name}`, query: { ms: String(ms), run: "{{run.id}}" } },
  }));

const nodeNames = (n: number) => Array.from({ length: n }, (_, i) => `n${String(i + 1).padStart(2, "0")}`);

type Row = { node_name: string; attempt: number; status: string; error_type: string | null };
const executions = (runId: string) =>
  sql<Row[]>`SELECT node_name, attempt, status, error->>'type' AS error_type FROM node_executions
             WHERE run_id = ${runId} ORDER BY node_name, attempt`;

beforeAll(async () => {
  temporal.deleteDb();
  temporal.start();
  sql = connect(TEST_DATABASE_URL, { max: 4 });
  upstream = await startUpstream((req, _body, res) => {
    const url = new URL(req.url!, "http://x");
    const ms = Number(url.searchParams.get("ms") ?? 0);
    const answer = () => json(res, 200, { path: url.pathname, run: url.searchParams.get("run") });
    if (ms) setTimeout(answer, ms);
    else answer();
  });
  apiPort = await freePort();
  client = new ApiClient(`http://127.0.0.1:${apiPort}`);
  const [started] = await Promise.all([startApi(apiPort, QUEUE, temporal.address), addWorker()]);
  api = procs.track(started);
  await client.login("durable");
});

afterAll(async () => {
  await procs.stopAll();
  await temporal.stop();
  temporal.deleteDb();
  await upstream?.close();
  await sql?.end();
});

describe("durability with real processes", () => {
  it(
    "a worker killed with SIGKILL mid-chain: a new worker finishes the run, completed nodes never run again",
    async () => {
      await ensureStack();
      const names = nodeNames(20);
      const victim = "n08";
      const wf = await client.chain("kill-worker", chainNodes("kill", names, 600));
      const started = await client.execute(wf);
      expect(started.status).toBe(202);
      const runId: string = started.body.run_id;

      // Kill the only worker while the victim's request is in flight (the upstream answers after 600 ms), once the
      // victim shows running (an attempt past RUNNING_ROW_AFTER_MS writes its running row).
      await waitFor(`the request of ${victim}`, () => requestsTo(`/kill/${victim}`).length === 1, 60_000, 20, logs);
      await waitFor(
        `${victim} shown running`,
        async () => (await executions(runId)).some((r) => r.node_name === victim && r.status === "running"),
        10_000,
        20,
        logs,
      );
      const victimWorker = workers[0];
      await kill9(victimWorker);
      expect(victimWorker.proc.signalCode).toBe("SIGKILL");
      const before = await executions(runId);
      expect(before.map((r) => [r.node_name, r.attempt, r.status])).toEqual([
        ...names.slice(0, 7).map((n) => [n, 1, "succeeded"]),
        [victim, 1, "running"],
      ]);

      await addWorker();
      const run = await client.waitForFinal(wf, runId, 90_000, logs);
      expect(run.status).toBe("succeeded");
      expect(run.output.n20.body).toEqual({ path: "/kill/n20", run: runId });

      // Exactly once for every node but the interrupted one, which shows its lost attempt and a second one.
      const rows = await executions(runId);
      const expected: Row[] = names.flatMap((node_name) =>
        node_name === victim
          ? [
            { node_name, attempt: 1, status: "failed", error_type: "AttemptLost" },
            { node_name, attempt: 2, status: "succeeded", error_type: null },
          ]
          : [{ node_name, attempt: 1, status: "succeeded", error_type: null }]
      );
      expect(rows.map((r) => ({ ...r }))).toEqual(expected);
      const counts = Object.fromEntries(names.map((n) => [n, requestsTo(`/kill/${n}`).length]));
      expect(counts).toEqual(Object.fromEntries(names.map((n) => [n, n === victim ? 2 : 1])));
      // The API reports the same: 21 executions, the lost attempt included.
      expect(run.node_executions).toHaveLength(21);
      const lost = run.node_executions.find((e: Json) => e.node_name === victim && e.attempt === 1);
      expect(lost).toMatchObject({ status: "failed", error: { type: "AttemptLost", retryable: true } });
    },
    240_000,
  );

  it(
    "a worker killed mid-group: members that finished keep their one attempt, the others run a second",
    async () => {
      await ensureStack();
      // Eight siblings after a start node run as one activity; four answer at once, four after 4 s.
      const names = nodeNames(8);
      const quick = new Set(names.slice(0, 4));
      const wf = await client.fanOut(
        "kill-group",
        { name: "start", config: { url: `${upstream.url}/group/start` } },
        names.map((name) => ({
          name,
          config: { url: `${upstream.url}/group/${name}`, query: { ms: quick.has(name) ? "0" : "4000" } },
        })),
      );
      const started = await client.execute(wf);
      expect(started.status).toBe(202);
      const runId: string = started.body.run_id;
      const done = async () =>
        (await executions(runId)).filter((r) => quick.has(r.node_name) && r.status === "succeeded").length;
      await waitFor(
        "every member in flight and the quick ones done",
        async () => names.every((n) => requestsTo(`/group/${n}`).length === 1) && (await done()) === 4,
        60_000,
        20,
        logs,
      );
      await kill9(workers[0]);
      await addWorker();
      const run = await client.waitForFinal(wf, runId, 90_000, logs);
      expect(run.status, JSON.stringify([run.error, await executions(runId)])).toBe("succeeded");
      expect(Object.keys(run.output).sort()).toEqual(names);

      const rows = await executions(runId);
      const expected: Row[] = [
        ...names.flatMap((node_name) =>
          quick.has(node_name) ? [{ node_name, attempt: 1, status: "succeeded", error_type: null }] : [
            { node_name, attempt: 1, status: "failed", error_type: "AttemptLost" },
            { node_name, attempt: 2, status: "succeeded", error_type: null },
          ]
        ),
        { node_name: "start", attempt: 1, status: "succeeded", error_type: null },
      ];
      expect(rows.map((r) => ({ ...r }))).toEqual(expected);
      const counts = Object.fromEntries(names.map((n) => [n, requestsTo(`/group/${n}`).length]));
      expect(counts).toEqual(Object.fromEntries(names.map((n) => [n, quick.has(n) ? 1 : 2])));
    },
    180_000,
  );

  it(
    "a worker stopped gracefully mid-group (SIGTERM, 1 s grace): finished members stay done, the rest resume",
    async () => {
      await ensureStack();
      // Only a worker with a short drain polls the queue while the group starts.
      for (const w of workers) await kill9(w);
      workers = [
        procs.track(
          await startWorker(QUEUE, { TEMPORAL_ADDRESS: temporal.address, WORKER_SHUTDOWN_GRACE_SECONDS: "1" }),
        ),
      ];
      const names = nodeNames(6);
      const quick = new Set(names.slice(0, 3));
      const wf = await client.fanOut(
        "drain-group",
        { name: "start", config: { url: `${upstream.url}/drain/start` } },
        names.map((name) => ({
          name,
          config: { url: `${upstream.url}/drain/${name}`, query: { ms: quick.has(name) ? "0" : "4000" } },
        })),
      );
      const started = await client.execute(wf);
      expect(started.status).toBe(202);
      const runId: string = started.body.run_id;
      const done = async () =>
        (await executions(runId)).filter((r) => quick.has(r.node_name) && r.status === "succeeded").length;
      await waitFor(
        "every member in flight and the quick ones done",
        async () => names.every((n) => requestsTo(`/drain/${n}`).length === 1) && (await done()) === 3,
        60_000,
        20,
        logs,
      );
      const draining = workers[0];
      draining.proc.kill("SIGTERM");
      await waitFor("the drained worker to exit", () => !alive(draining), 30_000, 50, logs);
      await addWorker();
      const run = await client.waitForFinal(wf, runId, 90_000, logs);
      expect(run.status, JSON.stringify([run.error, await executions(runId)])).toBe("succeeded");
      const rows = await executions(runId);
      for (const n of names) {
        const mine = rows.filter((r) => r.node_name === n).map((r) => [r.attempt, r.status]);
        if (quick.has(n)) expect(mine, n).toEqual([[1, "succeeded"]]);
        else expect(mine, n).toEqual([[1, "cancelled"], [2, "succeeded"]]);
        expect(requestsTo(`/drain/${n}`).length, n).toBe(quick.has(n) ? 1 : 2);
      }
    },
    180_000,
  );

  it("the Temporal server stopped mid-run and started again on its database: the run completes", async () => {
    await ensureStack();
    const worker = workers[0];
    const names = nodeNames(10);
    const wf = await client.chain("restart-temporal", chainNodes("temporal", names, 500));
    const started = await client.execute(wf);
    expect(started.status).toBe(202);
    const runId: string = started.body.run_id;

    await waitFor("the request of n03", () => requestsTo("/temporal/n03").length === 1, 60_000, 20, logs);
    try {
      await temporal.stop();
      expect(await portOpen(temporal.port)).toBe(false);
      await sleep(2000); // n03's answer arrives, and is recorded, while the server is away
    } finally {
      temporal.start();
    }
    // The run is driven by the same worker process, which reconnected by itself.
    const run = await waitFor(
      "the run to finish",
      async () => {
        const [row] = await sql`SELECT status FROM workflow_runs WHERE id = ${runId}`;
        return isFinalRunStatus(row.status) ? row.status : undefined;
      },
      60_000,
      200,
      logs,
    );
    expect(run).toBe("succeeded");
    expect(alive(worker)).toBe(true);
    expect(alive(api), `the API exited: ${api.proc.signalCode ?? api.proc.exitCode}`).toBe(true);
    const reported = await client.waitForFinal(wf, runId, 30_000, logs);
    expect(reported.status).toBe("succeeded");
    expect(reported.output.n10.body).toEqual({ path: "/temporal/n10", run: runId });

    const rows = await executions(runId);
    expect(rows.filter((r) => r.status === "running")).toEqual([]);
    for (const n of names) {
      const mine = rows.filter((r) => r.node_name === n);
      // Every node succeeded in its last attempt, and every attempt was one upstream request.
      expect(mine.at(-1)?.status, n).toBe("succeeded");
      expect(requestsTo(`/temporal/${n}`).length, n).toBe(mine.length);
      // Nodes finished before the stop, and those scheduled after the restart, ran exactly once. n03 was in
      // flight: its completion may have been lost with the server, and then it runs a second time.
      if (n !== "n03") expect(mine.map((r) => [r.attempt, r.status]), n).toEqual([[1, "succeeded"]]);
      else expect(mine.length).toBeLessThanOrEqual(2);
    }
  }, 240_000);

  // The API once died here: with @temporalio/client's gRPC on Deno's node:http2, the server's GOAWAY aborted the
  // process inside nghttp2 (denoland/deno#36788). It now calls Temporal's HTTP API with fetch, and must live on.
  it("the Deno API survives the Temporal server going away, answers not ready, then reconnects", async () => {
    await ensureStack();
    const before = api;
    // Warm the API's connection to Temporal the way a client does: a run started and polled until done.
    const warm = await client.chain("warm-up", chainNodes("warm", nodeNames(3), 200));
    const warmRun = await client.execute(warm);
    expect((await client.waitForFinal(warm, warmRun.body.run_id, 30_000, logs)).status).toBe("succeeded");
    try {
      await temporal.stop();
      const down = await client.request("GET", "/readyz").catch(async (err) => {
        await sleep(200);
        const how = before.proc.signalCode ?? before.proc.exitCode ?? "no exit seen";
        throw new Error(`the API process is gone (${how}): ${err.message}\n${before.output().slice(-400)}`);
      });
      expect(down.status).toBe(503);
      expect(down.body.checks).toMatchObject({ postgres: "ok", temporal: expect.stringMatching(/^unavailable/) });
      await sleep(2000);
      expect(alive(before), `the API exited: ${before.proc.signalCode ?? before.proc.exitCode}`).toBe(true);
    } finally {
      temporal.start();
    }
    await waitFor(
      "the API to be ready again",
      async () => (await client.request("GET", "/readyz")).status === 200,
      30_000,
    );
    const wf = await client.chain("after-temporal", chainNodes("after", ["only"], 0));
    const started = await client.execute(wf);
    expect(started.status).toBe(202);
    expect((await client.waitForFinal(wf, started.body.run_id, 30_000, logs)).status).toBe("succeeded");
    expect(api).toBe(before);
  }, 120_000);

  it("the Deno API killed mid-run and started again on its port: the new process reports the whole run", async () => {
    await ensureStack();
    const names = nodeNames(8);
    const wf = await client.chain("restart-api", chainNodes("api", names, 400));
    const started = await client.execute(wf);
    expect(started.status).toBe(202);
    const runId: string = started.body.run_id;

    await waitFor("the request of n03", () => requestsTo("/api/n03").length === 1, 60_000, 20, logs);
    await kill9(api);
    await expect(fetch(`${client.base}/healthz`)).rejects.toThrow();
    api = procs.track(await startApi(apiPort, QUEUE, temporal.address));

    // Same port, same token (JWTs are stateless): the new process reads the run the old one started.
    const run = await client.waitForFinal(wf, runId, 60_000, logs);
    expect(run.status).toBe("succeeded");
    expect(run.node_executions.map((e: Json) => [e.node_name, e.attempt, e.status])).toEqual(
      names.map((n) => [n, 1, "succeeded"]),
    );
    for (const e of run.node_executions) {
      expect(e.output.body).toEqual({ path: `/api/${e.node_name}`, run: runId });
    }
    expect(names.map((n) => requestsTo(`/api/${n}`).length)).toEqual(names.map(() => 1));
    const list = await client.request("GET", `/api/workflows/${wf}/runs`);
    expect(list.status).toBe(200);
    expect(list.body.items.map((r: Json) => [r.id, r.status])).toEqual([[runId, "succeeded"]]);
  }, 240_000);

  it(
    "500 runs started by 50 concurrent clients: 500 distinct runs, each succeeded, each node executed once",
    async () => {
      await ensureStack();
      if (workers.length < 2) await addWorker();
      const RUNS = 500;
      const CLIENTS = 50;
      const wf = await client.chain("burst", [
        { name: "only", config: { url: `${upstream.url}/burst/only`, query: { run: "{{run.id}}" } } },
      ]);

      const answers: { status: number; body: Json }[] = [];
      const t0 = Date.now();
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, c) => {
          for (let i = 0; i < RUNS / CLIENTS; i++) answers.push(await client.execute(wf, { client: c, i }));
        }),
      );
      const startedMs = Date.now() - t0;
      expect(answers.filter((a) => a.status !== 202)).toEqual([]);
      const runIds = answers.map((a) => a.body.run_id as string);
      expect(new Set(runIds).size).toBe(RUNS);

      const statusCounts = async () =>
        Object.fromEntries(
          (await sql`SELECT status, count(*)::int AS n FROM workflow_runs WHERE workflow_id = ${wf} GROUP BY status`)
            .map((r) => [r.status, r.n]),
        );
      await waitFor(
        "500 runs to finish",
        async () => {
          const counts = await statusCounts();
          return Object.entries(counts).every(([s]) => isFinalRunStatus(s));
        },
        180_000,
        500,
        () => logs(),
      );
      const finishedMs = Date.now() - t0;
      expect(await statusCounts()).toEqual({ succeeded: RUNS });

      // The API reports every run succeeded, with its one node execution.
      const reported: Json[] = [];
      const queue = [...runIds];
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          for (let id = queue.pop(); id; id = queue.pop()) reported.push((await client.getRun(wf, id)).body);
        }),
      );
      expect(reported.filter((r) => r.status !== "succeeded" || r.node_executions?.length !== 1)).toEqual([]);
      expect(new Set(reported.map((r) => r.node_executions[0].status))).toEqual(new Set(["succeeded"]));

      // The database: exactly these 500 runs, one node execution each (attempt 1), no duplicates.
      const dbRuns = await sql`SELECT id FROM workflow_runs WHERE workflow_id = ${wf}`;
      expect(dbRuns.map((r) => r.id).sort()).toEqual([...runIds].sort());
      const perRun = await sql`
      SELECT r.id, count(e.id)::int AS executions, max(e.attempt) AS max_attempt
      FROM workflow_runs r LEFT JOIN node_executions e ON e.run_id = r.id
      WHERE r.workflow_id = ${wf} GROUP BY r.id`;
      expect(perRun).toHaveLength(RUNS);
      expect(perRun.filter((r) => r.executions !== 1 || r.max_attempt !== 1)).toEqual([]);
      // And the upstream saw each run exactly once.
      const seen = requestsTo("/burst/only").map((r) => new URL(r.url, "http://x").searchParams.get("run"));
      expect(seen).toHaveLength(RUNS);
      expect(new Set(seen)).toEqual(new Set(runIds));
      console.log(`500 runs: all 202 after ${startedMs} ms, all succeeded after ${finishedMs} ms`);
    },
    240_000,
  );
});
