/**
 * The chaos harness behind test/chaos.test.ts (short, in CI) and bench/chaos.ts (long): a stack of its own
 * (Temporal dev server on a database file, the Deno API, two workers on the queue `weft-chaos`), batches of
 * runs against a counting HTTP server and a sandbox table, processes killed with SIGKILL in the middle, and
 * the checks the reliability issue names. Each scenario gives one column of the printed table.
 */
import { readFileSync } from "node:fs";
import { isFinalRunStatus } from "../core/contract.ts";
import { connect, type Sql } from "../db/client.ts";
import { sandboxUrlFor } from "../db/sandbox.ts";
import { TEST_DATABASE_URL, TEST_TEMPORAL_PORT } from "./env.ts";
import { type Spawned, startDenoApi, startWorker } from "./processes.ts";
import { ApiClient, freePort, sleep, TemporalDevServer, waitFor } from "./stack.ts";
import { Counter, type Hit } from "./counting-server.ts";
import type { Fault, ScenarioResult } from "./chaos-report.ts";

export { chaosTable, type Fault, passed, type ScenarioResult } from "./chaos-report.ts";
export { Counter, type Hit } from "./counting-server.ts";

export const CHAOS_QUEUE = "weft-chaos";

export class ChaosStack {
  temporal = new TemporalDevServer(TEST_TEMPORAL_PORT + 60);
  api!: Spawned;
  apiPort = 0;
  workers: Spawned[] = [];
  client!: ApiClient;
  counter: Counter;
  sql!: Sql;
  /** When each fault began and ended (the process back), for telling in-flight duplicates apart. */
  private kills: [number, number][] = [];
  private workflowId = "";
  private table = "";

  constructor(readonly delayMs = 150) {
    this.counter = new Counter(delayMs);
  }

  async start() {
    this.temporal.deleteDb();
    this.temporal.start();
    this.sql = connect(TEST_DATABASE_URL, { max: 3 });
    await this.counter.start();
    this.apiPort = await freePort();
    await Promise.all([this.startApi(), this.addWorker(), this.addWorker()]);
    this.client = new ApiClient(`http://127.0.0.1:${this.apiPort}`);
    await this.client.login("chaos");
    this.workflowId = await this.buildWorkflow();
  }

  async stop() {
    await Promise.all([this.api, ...this.workers].map((p) => p?.stop("SIGKILL")));
    await this.temporal.stop().catch(() => {});
    this.counter.close();
    await this.sql?.end();
  }

  private async startApi() {
    this.api = await startDenoApi(this.apiPort, CHAOS_QUEUE, {
      TEMPORAL_ADDRESS: this.temporal.address,
      LOG_REQUESTS: "false",
      WEFT_ORPHAN_AFTER_MS: "2000",
      WEFT_ORPHAN_SWEEP_MS: "1000",
    });
  }

  private async addWorker() {
    this.workers.push(await startWorker(CHAOS_QUEUE, { TEMPORAL_ADDRESS: this.temporal.address }));
  }

  /** http a → http b → db_write (one row per run) → http c. */
  private async buildWorkflow() {
    const c = this.client;
    this.table = `chaos_${Date.now()}`;
    const setup = await c.request("POST", "/api/workflows", { name: "chaos-setup" });
    await c.request("POST", `/api/workflows/${setup.body.id}/nodes`, {
      name: "create",
      type: "db_write",
      config: { sql: `CREATE TABLE IF NOT EXISTS ${this.table} (run_id text PRIMARY KEY)` },
    });
    const made = await c.execute(setup.body.id);
    const done = await c.waitForFinal(setup.body.id, made.body.run_id, 60_000);
    if (done.status !== "succeeded") throw new Error(`chaos setup: ${JSON.stringify(done)}`);
    const wf = await c.request("POST", "/api/workflows", { name: "chaos" });
    const id = wf.body.id;
    const node = async (name: string, type: string, config: Record<string, unknown>) =>
      (await c.request("POST", `/api/workflows/${id}/nodes`, { name, type, config })).body.id as string;
    const http = (name: string) =>
      node(name, "http_request", {
        url: `${this.counter.url}/${name}`,
        query: { run: "{{run.id}}" },
        timeout_ms: 5000,
        retry: { max_attempts: 10, initial_interval_ms: 200, max_interval_ms: 2000 },
      });
    const ids = [
      await http("a"),
      await http("b"),
      await node("w", "db_write", {
        sql: `INSERT INTO ${this.table} (run_id) VALUES ($1)`,
        params: ["{{run.id}}"],
        retry: { max_attempts: 10, initial_interval_ms: 200, max_interval_ms: 2000 },
      }),
      await http("c"),
    ];
    for (let i = 1; i < ids.length; i++) {
      await c.request("POST", `/api/workflows/${id}/edges`, { source_node_id: ids[i - 1], target_node_id: ids[i] });
    }
    return id as string;
  }

  private async execute(key: string) {
    const res = await fetch(`${this.client.base}/api/workflows/${this.workflowId}/execute`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${this.client.token}`,
        "idempotency-key": key,
      },
      body: JSON.stringify({ input: {} }),
    });
    return { status: res.status, body: await res.json() };
  }

  /** A client as an operator's would be: retries with the same key until the run is accepted (202). */
  private async submit(key: string, statuses: { at: number; status: number }[]): Promise<string> {
    for (;;) {
      try {
        const res = await this.execute(key);
        statuses.push({ at: Date.now(), status: res.status });
        if (res.status === 202) return res.body.run_id;
        // A client error other than a conflict in flight is the harness's bug: retrying would never end.
        if (res.status >= 400 && res.status < 500 && res.status !== 409 && res.status !== 429) {
          throw new Error(`execute answered ${res.status}: ${JSON.stringify(res.body)}`);
        }
      } catch (err) {
        if ((err as Error).message.startsWith("execute answered")) throw err;
        statuses.push({ at: Date.now(), status: 0 });
      }
      await sleep(300);
    }
  }

  private pidOfTemporal() {
    return Number(readFileSync(`.state/temporal/server-${this.temporal.port}.pid`, "utf8"));
  }

  private async fault(fault: Fault) {
    const at = Date.now();
    const killWorker = async () => {
      const w = this.workers.shift()!;
      await w.stop("SIGKILL");
      await this.addWorker();
    };
    const killTemporal = async () => {
      process.kill(this.pidOfTemporal(), "SIGKILL");
      await this.temporal.stop(1000).catch(() => {});
      this.temporal.start();
    };
    if (fault === "worker") await killWorker();
    if (fault === "temporal") await killTemporal();
    if (fault === "worker+temporal") {
      // Both die at once; the replacement worker starts once Temporal is back (a worker exits if it cannot
      // connect at start, as a pod would crash-loop until it can).
      const w = this.workers.shift()!;
      await Promise.all([w.stop("SIGKILL"), killTemporal()]);
      await this.addWorker();
    }
    if (fault === "workers x4") {
      for (let i = 0; i < 4; i++) {
        const t = Date.now();
        await killWorker();
        this.kills.push([t, Date.now()]);
        await sleep(400);
      }
    }
    if (fault === "api") {
      await this.api.stop("SIGKILL");
      await this.startApi();
    }
    if (fault !== "workers x4") this.kills.push([at, Date.now()]);
    return at;
  }

  /** One batch of `runs` runs with `fault` injected `faultAfterMs` in; returns the scenario's column. */
  async scenario(name: string, fault: Fault, runs: number, faultAfterMs = 1500): Promise<ScenarioResult> {
    const t0 = Date.now();
    this.kills = [];
    const firstHit = this.counter.hits.length;
    const statuses: { at: number; status: number }[] = [];
    // Keys are visible ASCII without spaces (api/runs/idempotency.ts): scenario names may have spaces.
    const keys = Array.from({ length: runs }, (_, i) => `${name.replace(/\W+/g, "-")}-${i}-${crypto.randomUUID()}`);
    // The burst: every key sent five times at once.
    const submissions = fault === "burst"
      ? keys.flatMap((k) => Array.from({ length: 5 }, () => this.submit(k, statuses)))
      : keys.map((k) => sleep(Math.random() * 1000).then(() => this.submit(k, statuses)));
    let faultWindow: [number, number] | null = null;
    if (fault !== "none" && fault !== "burst") {
      await sleep(faultAfterMs);
      const started = await this.fault(fault);
      faultWindow = [started, Date.now() + 3000];
    }
    const runIds = await Promise.all(submissions);
    const perKey = fault === "burst" ? keys.map((_, i) => new Set(runIds.slice(i * 5, i * 5 + 5)).size) : [];
    const accepted = [...new Set(runIds)];
    let recoveryS: number | null = null;
    const finals = await waitFor(
      "every accepted run to be final",
      async () => {
        const rows = await this.sql`SELECT id, status FROM workflow_runs WHERE id IN ${this.sql(accepted)}`;
        return rows.every((r) => isFinalRunStatus(r.status)) ? rows : undefined;
      },
      runs * 1000 + 120_000,
      500,
    ).catch(() => null);
    if (faultWindow) recoveryS = Math.round((Date.now() - faultWindow[0]) / 100) / 10;
    const rows: { status: string }[] = (finals ??
      await this.sql`SELECT id, status FROM workflow_runs WHERE id IN ${this.sql(accepted)}`) as never;
    const hits = this.counter.hits.slice(firstHit).filter((h) => accepted.includes(h.run));
    const byAttempt = new Map<string, Hit[]>();
    for (const h of hits) byAttempt.set(`${h.run}/${h.node}`, [...(byAttempt.get(`${h.run}/${h.node}`) ?? []), h]);
    let duplicates = 0;
    let unexplained = 0;
    for (const list of byAttempt.values()) {
      for (let i = 1; i < list.length; i++) {
        duplicates++;
        const prev = list[i - 1];
        // Explained: the earlier request was in flight during a fault — open when a process was killed, or while
        // Temporal was away, so its outcome could not be recorded (or its answer had just come back).
        const explained = this.kills.some(([from, to]) =>
          prev.opened <= to + 500 && (prev.closed ?? Infinity) >= from - 2000
        );
        if (!explained) unexplained++;
      }
    }
    const dbRows = await this.sandboxRows(accepted);
    const orphans = await this.sql`SELECT count(*)::int AS n FROM workflow_runs
      WHERE id IN ${this.sql(accepted)} AND status = 'pending' AND temporal_run_id IS NULL`;
    const outside = statuses.filter((s) =>
      s.status >= 500 && !(faultWindow && s.at >= faultWindow[0] && s.at <= faultWindow[1] + 30_000)
    );
    return {
      name,
      accepted: accepted.length,
      final: rows.filter((r) => isFinalRunStatus(r.status)).length,
      succeeded: rows.filter((r) => r.status === "succeeded").length,
      dbRowsExactlyOnce: dbRows.size === accepted.length && accepted.every((id) => dbRows.get(id) === 1),
      httpDuplicates: duplicates,
      unexplainedDuplicates: unexplained,
      orphans: orphans[0].n as number,
      fiveHundredsOutsideFault: outside.length,
      recoveryS,
      oneRunPerKey: fault !== "burst" || perKey.every((n) => n === 1),
      wallS: Math.round((Date.now() - t0) / 100) / 10,
    };
  }

  /** Rows per run in the sandbox table, wherever the sandbox keeps the tenant's tables. */
  private async sandboxRows(runIds: string[]) {
    const sandbox = connect(sandboxUrlFor(TEST_DATABASE_URL), { max: 1 });
    try {
      const [where] =
        await sandbox`SELECT table_schema FROM information_schema.tables WHERE table_name = ${this.table}`;
      if (!where) return new Map<string, number>();
      const rows = await sandbox.unsafe(
        `SELECT run_id, count(*)::int AS n FROM "${where.table_schema}"."${this.table}" GROUP BY run_id`,
      );
      const counts = new Map(rows.map((r) => [r.run_id as string, r.n as number]));
      return new Map(runIds.map((id) => [id, counts.get(id) ?? 0]));
    } finally {
      await sandbox.end();
    }
  }
}
