/**
 * `timeout_ms` under load: `runs` runs at once whose one http_request node hangs (timeout_ms 1000, 2 attempts),
 * beside a batch of ordinary runs, on the chaos stack (test/chaos.ts: its own Temporal, API, two workers).
 * Measured from the upstream's side: how long after its timeout each timed-out request was closed (p50, p99,
 * max overshoot), whether any attempt's request was still open when the next attempt's began, and what the
 * rows say. The hanging upstream is a process of its own that does nothing else, so what it records is when the
 * worker opened and closed the request, not when this busy process got round to noticing. Uses the test stack's
 * settings:
 *
 *   WEFT_TEST_TEMPORAL_PORT=7299 node --import tsx bench/timeouts.ts [runs=200]
 */
import process from "node:process";
import { loadavg } from "node:os";
import { spawn } from "node:child_process";
import type { Hit } from "../test/chaos.ts";
import { setup, teardown } from "../test/global-setup.ts";
import { ChaosStack } from "../test/chaos.ts";

const runs = Number(process.argv[2] ?? 200);
const TIMEOUT_MS = 1000;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/** The hanging upstream: records each request's open and close time, never answers; GET /hits lists them. */
const HANG_SERVER = `
const hits = [];
const server = require("node:http").createServer((req, res) => {
  const u = new URL(req.url, "http://x");
  if (u.pathname === "/hits") return res.end(JSON.stringify(hits));
  const hit = { run: u.searchParams.get("run") || "", node: "hang", opened: Date.now() };
  hits.push(hit);
  res.once("close", () => (hit.closed ??= Date.now()));
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));`;
const hangServer = spawn(process.execPath, ["-e", HANG_SERVER], { stdio: ["ignore", "pipe", "inherit"] });
const hangUrl = await new Promise<string>((resolve) =>
  hangServer.stdout!.once("data", (d) => resolve(`http://127.0.0.1:${String(d).trim()}`))
);

await setup();
const stack = new ChaosStack();
let ok = false;
try {
  await stack.start();
  const c = stack.client;
  const wf = (await c.request("POST", "/api/workflows", { name: "hang" })).body.id;
  await c.request("POST", `/api/workflows/${wf}/nodes`, {
    name: "hang",
    type: "http_request",
    config: {
      url: `${hangUrl}/hang`,
      query: { run: "{{run.id}}" },
      timeout_ms: TIMEOUT_MS,
      retry: { max_attempts: 2, initial_interval_ms: 100 },
    },
  });
  const t0 = Date.now();
  const load1 = loadavg()[0];
  const load = stack.scenario("load", "none", runs);
  // Executes refused under the load (503: Temporal's start did not answer in time) are tried again, as clients do.
  const refused: Record<number, number> = {};
  const execute = async (): Promise<string> => {
    for (;;) {
      const res = await c.execute(wf).catch(() => ({ status: 0, body: null }));
      if (res.status === 202) return res.body.run_id;
      refused[res.status] = (refused[res.status] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const ids = await Promise.all(Array.from({ length: runs }, execute));
  await Promise.all(ids.map((id) => c.waitForFinal(wf, id, 300_000)));
  const loadResult = await load;
  const hits: Hit[] = await (await fetch(`${hangUrl}/hits`)).json();
  const overshoot = hits.map((h) => (h.closed ?? Infinity) - h.opened - TIMEOUT_MS);
  const byRun = new Map<string, typeof hits>();
  for (const h of hits) byRun.set(h.run, [...(byRun.get(h.run) ?? []), h]);
  let overlapping = 0;
  for (const list of byRun.values()) {
    for (let i = 1; i < list.length; i++) if (list[i].opened < (list[i - 1].closed ?? Infinity)) overlapping++;
  }
  const rows = await stack.sql`SELECT status, error->>'type' AS type, count(*)::int AS n FROM node_executions
    WHERE run_id IN ${stack.sql(ids)} GROUP BY 1, 2 ORDER BY 3 DESC`;
  // The same closes measured from each attempt's recorded start (its row's started_at, written before the
  // attempt's timer starts): an upper bound that also counts the wait between the attempt's start and its request.
  const starts = await stack.sql<{ run_id: string; started: number }[]>`
    SELECT run_id, (extract(epoch FROM started_at) * 1000)::float8 AS started FROM node_executions
    WHERE run_id IN ${stack.sql(ids)} AND error->>'type' = 'Timeout' ORDER BY run_id, attempt`;
  const startsByRun = new Map<string, number[]>();
  for (const r of starts) startsByRun.set(r.run_id, [...(startsByRun.get(r.run_id) ?? []), r.started]);
  const fromStart = [...byRun].flatMap(([run, list]) => {
    const s = startsByRun.get(run) ?? [];
    const sorted = [...list].sort((a, b) => a.opened - b.opened);
    return s.length === sorted.length ? sorted.map((h, i) => (h.closed ?? Infinity) - s[i] - TIMEOUT_MS) : [];
  });
  const p99 = pct(overshoot, 99);
  console.log(JSON.stringify(
    {
      runs,
      load_average_1m: { start: load1, end: loadavg()[0] },
      load_runs_succeeded: loadResult.succeeded,
      executes_refused_then_retried: refused,
      timed_out_requests: hits.length,
      never_closed: hits.filter((h) => h.closed === undefined).length,
      overshoot_ms: { p50: pct(overshoot, 50), p99, max: Math.max(...overshoot) },
      overshoot_from_recorded_start_ms: {
        p50: Math.round(pct(fromStart, 50)),
        p99: Math.round(pct(fromStart, 99)),
        max: Math.round(Math.max(...fromStart)),
        attempts: fromStart.length,
      },
      attempts_overlapping_the_previous: overlapping,
      rows: rows.map((r) => `${r.n} × ${r.status} ${r.type}`),
      wall_s: (Date.now() - t0) / 1000,
    },
    null,
    2,
  ));
  // Every timed-out request's attempt says Timeout; any other attempt was lost before it sent its request
  // (Temporal recorded its start but no worker ran it: see docs/benchmarks.md) and says AttemptLost.
  const timeoutRows = rows.find((r) => r.status === "failed" && r.type === "Timeout")?.n ?? 0;
  ok = p99 <= 500 && overlapping === 0 && timeoutRows === hits.length &&
    rows.every((r) => r.status === "failed" && ["Timeout", "AttemptLost"].includes(r.type));
} finally {
  await stack.stop();
  await teardown();
  hangServer.kill();
}
process.exit(ok ? 0 : 1);
