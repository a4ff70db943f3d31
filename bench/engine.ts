/**
 * bench/engine: Weft's engine against hand-written Temporal on the same server, worker and run.
 * (a) a chain of 50 http_request nodes through the API vs rawChain: 50 sequential bare HTTP activities;
 * (b) 50 nodes fanned out after one start node vs a single-node workflow, both through the API;
 * (c) runs/s of a 3-node chain, `clients` concurrent clients each driving Weft with one request per run
 *     (`POST …/execute?wait=30`, checked `succeeded`), beside rawChain(3) (regular activities) and
 *     rawLocalChain(3) (local activities) started and awaited through the Temporal client; BENCH_C_ROUNDS (3)
 *     windows of `seconds` per variant, alternated; medians, with the CPU each process used per run;
 * (d) one-node runs one at a time: execute?wait → answer, p50/p99, beside one-step rawLocalChain and rawChain
 *     awaited through the Temporal client, interleaved run by run;
 * (e) a 3-node chain behind `POST /api/hooks/{token}?wait=10` under `clients` autocannon connections for
 *     `seconds`: runs/s answered succeeded, p50, p99, errors.
 * Usage: node --import tsx bench/engine.ts [seconds for (c),(e)=60] [rounds for (a),(b)=5] [clients=50] [runs for (d)=200]
 * BENCH_TRANSFER_POLL_RPS=1000 starts the dev server with history.transferProcessorMaxPollRPS raised from its
 * default of 20, which otherwise puts every workflow task after an activity on a 50 ms grid.
 * BENCH_PARTS=cd (any of a–e) runs only those parts; results are written to bench/results/ only when all ran.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import postgres from "postgres";
import { chain, fanOut } from "./engine-api.ts";
import { closedLoop, hookLoad, sequential } from "./engine-load.ts";
import { BENCH_TASK_QUEUE as TASK_QUEUE, startEngineBench } from "./engine-stack.ts";
import { type EngineParts, report, type ThroughputRounds } from "./engine-report.ts";
import { reportLatency, reportWebhook } from "./engine-report-latency.ts";
import { type rawChain, type rawFanOut, rawTaskQueue } from "./engine-workflows.ts";
import { cpuMeter, type Sample } from "./proc-cpu.ts";
import { BENCH_DATABASE_URL, BENCH_TEMPORAL_PORT } from "./stack.ts";

const [seconds, rounds, clients, dRuns] = [60, 5, 50, 200].map((d, i) => Number(process.argv[2 + i] ?? d));
const cRounds = Number(process.env.BENCH_C_ROUNDS ?? 3);
const N = 50;
const parts = process.env.BENCH_PARTS ?? "abcde";

const dynamicConfig = process.env.BENCH_TRANSFER_POLL_RPS
  ? [`history.transferProcessorMaxPollRPS=${process.env.BENCH_TRANSFER_POLL_RPS}`]
  : [];
const { api, temporal, url, apiProc, workerProc, stop } = await startEngineBench("engine", dynamicConfig);
const pg = postgres(BENCH_DATABASE_URL, { max: 1, onnotice: () => {} });

try {
  const temporalPid = Number(readFileSync(`.state/temporal/server-${BENCH_TEMPORAL_PORT}.pid`, "utf8"));
  const meter = cpuMeter(
    { temporal: temporalPid, api: apiProc.pid!, worker: workerProc.pid! },
    (q) => pg.unsafe(q) as unknown as Promise<{ pid: number }[]>,
  );
  const [c50, f50, c3] = [chain(N), fanOut(N), chain(3)];
  const wf = {
    chain: await api.createGraph("bench chain", c50.nodes, c50.edges, url),
    fan: await api.createGraph("bench fan-out", f50.nodes, f50.edges, url, 64),
    single: await api.createGraph("bench single", ["only"], [], url),
    chain3: await api.createGraph("bench chain 3", c3.nodes, c3.edges, url),
    hook3: await api.createGraph("bench webhook chain 3", c3.nodes, c3.edges, url),
  };

  /** One Weft run: from POST execute until Temporal reports the workflow done (it marks the run first). */
  const weftOnce = async (workflowId: string, nodes: number) => {
    const t0 = performance.now();
    const { runId, temporalWorkflowId } = await api.execute(workflowId);
    const handle = temporal.workflow.getHandle(temporalWorkflowId);
    await handle.result();
    const wall = performance.now() - t0;
    const run = await api.waitFinal(workflowId, runId, 20);
    const { historyLength, historySize } = await handle.describe();
    const done = run.node_executions.filter((e) => e.status === "succeeded");
    if (run.status !== "succeeded" || done.length !== nodes) {
      throw new Error(`run ${runId} is ${run.status} with ${done.length} of ${nodes} nodes succeeded`);
    }
    const nodeSum = done.reduce((t, e) => t + (e.duration_ms ?? 0), 0);
    return { wall, nodeSum, history: [historyLength, historySize ?? 0] };
  };
  const rawOnce = async (type: "rawChain" | "rawFanOut", n: number) => {
    const t0 = performance.now();
    const handle = await temporal.workflow.start<typeof rawChain | typeof rawFanOut>(type, {
      taskQueue: rawTaskQueue(TASK_QUEUE),
      workflowId: `bench-raw-${randomUUID()}`,
      args: [url, n],
    });
    const r = await handle.result();
    const wall = performance.now() - t0;
    const { historyLength, historySize } = await handle.describe();
    return { wall, nodeSum: r.activity_ms, history: [historyLength, historySize ?? 0] };
  };

  /** A raw chain started and awaited through the Temporal client; "succeeded" when every step answered 2xx. */
  const rawRun = async (type: "rawChain" | "rawLocalChain", n: number) => {
    const r = await temporal.workflow.execute<typeof rawChain>(type, {
      taskQueue: rawTaskQueue(TASK_QUEUE),
      workflowId: `bench-raw-${randomUUID()}`,
      args: [url, n],
    });
    return r.ok === n ? "succeeded" : "failed";
  };
  /** One Weft run in one request (execute?wait=30); "succeeded" when the run and all its `nodes` did. */
  const weftWait = async (workflowId: string, nodes: number) => {
    const run = await api.executeWait(workflowId, 30);
    const done = run.node_executions.filter((e) => e.status === "succeeded").length;
    return run.status === "succeeded" && done !== nodes ? "failed" : run.status;
  };

  type Once = () => Promise<{ wall: number; nodeSum: number; history: number[] }>;
  /** A warm-up of each, then `rounds` rounds alternating the order; CPU summed per variant. */
  const alternate = async <K extends string>(variants: Record<K, Once>) => {
    const names = Object.keys(variants) as K[];
    for (const name of names) await variants[name]();
    const out = {} as Record<K, { wall: number[]; nodeSum: number[]; cpu: Sample; history: number[] }>;
    for (const name of names) out[name] = { wall: [], nodeSum: [], cpu: {}, history: [] };
    for (let i = 0; i < rounds; i++) {
      for (const name of i % 2 ? [...names].reverse() : names) {
        const before = await meter.sample();
        const r = await variants[name]();
        const used = meter.diff(before, await meter.sample());
        out[name].wall.push(r.wall);
        out[name].nodeSum.push(r.nodeSum);
        out[name].history = r.history;
        for (const [k, v] of Object.entries(used)) out[name].cpu[k] = (out[name].cpu[k] ?? 0) + v;
      }
      console.log(
        `  round ${i + 1}/${rounds}: ${names.map((n) => `${n} ${Math.round(out[n].wall.at(-1)!)} ms`).join(", ")}`,
      );
    }
    return out;
  };

  const settings = {
    n: N,
    seconds,
    rounds,
    c_rounds: cRounds,
    clients,
    d_runs: dRuns,
    temporal_dynamic_config: dynamicConfig,
  };
  const ran: EngineParts = {};
  if (parts.includes("a")) {
    console.log(`(a) chain of ${N} http_request nodes: Weft vs rawChain, ${rounds} rounds`);
    ran.a = await alternate({ weft: () => weftOnce(wf.chain, N), raw: () => rawOnce("rawChain", N) });
  }
  if (parts.includes("b")) {
    console.log(`(b) fan-out of ${N} after one start node vs a single node, ${rounds} rounds`);
    ran.b = await alternate({
      fan: () => weftOnce(wf.fan, N + 1),
      single: () => weftOnce(wf.single, 1),
      rawFan: () => rawOnce("rawFanOut", N),
      rawSingle: () => rawOnce("rawChain", 1),
    });
  }
  if (parts.includes("c")) {
    console.log(`(c) 3-node chain, ${clients} clients, ${cRounds} × ${seconds} s per variant, alternated`);
    const variants = {
      weft: () => weftWait(wf.chain3, 3),
      raw: () => rawRun("rawChain", 3),
      rawLocal: () => rawRun("rawLocalChain", 3),
    };
    const names = Object.keys(variants) as (keyof typeof variants)[];
    // Warm-up: one run per client of each, so that no first window pays for a cold worker or JIT.
    for (const name of names) await Promise.all(Array.from({ length: clients }, () => variants[name]()));
    const c: ThroughputRounds = { weft: [], raw: [], rawLocal: [] };
    for (let i = 0; i < cRounds; i++) {
      for (const name of i % 2 ? [...names].reverse() : names) {
        c[name].push(await closedLoop(meter, api, { seconds, clients }, variants[name]));
        console.log(`  round ${i + 1}/${cRounds}: ${name} ${(c[name].at(-1)!.succeeded / seconds).toFixed(1)} runs/s`);
      }
    }
    ran.c = c;
  }
  const printed = report(settings, ran);
  const verdicts = [...printed.verdicts];
  let latency, webhook;
  if (parts.includes("d")) {
    // How long after the run's final write its answer arrived: what waiting on the event hub costs.
    const answerLag: number[] = [];
    // And where the API says the time went (its Server-Timing: start, wait for the run's end, final reads).
    const phases: Record<string, number[]> = {};
    latency = reportLatency(
      await sequential(dRuns, {
        weft: async () => {
          const run = await api.executeWait(wf.single, 30);
          if (run.finished_at) answerLag.push(Date.now() - new Date(run.finished_at).getTime());
          for (const [k, v] of Object.entries(api.serverTiming)) (phases[k] ??= []).push(v);
          return run.status === "succeeded" && run.node_executions.length !== 1 ? "failed" : run.status;
        },
        rawLocal: () => rawRun("rawLocalChain", 1),
        raw: () => rawRun("rawChain", 1),
      }),
      answerLag,
      phases,
    );
    verdicts.push(latency.verdict);
  }
  if (parts.includes("e")) {
    const hookUrl = `${api.base}${await api.hook(wf.hook3)}?wait=10`;
    // Warm-up: one request per connection, answered before the window opens.
    await Promise.all(
      Array.from(
        { length: clients },
        () =>
          fetch(hookUrl, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }).then((r) =>
            r.text()
          ),
      ),
    );
    webhook = reportWebhook(await hookLoad(meter, hookUrl, { seconds, connections: clients }));
    verdicts.push(webhook.verdict);
  }
  if (!dynamicConfig.length) {
    verdicts.push(
      "Note: on a default dev server each workflow task after an activity waits for the history transfer queue, " +
        "read at most 20 times/s (history.transferProcessorMaxPollRPS), so sequential steps sit on a 50 ms grid " +
        "for Weft and baseline alike, which can hide overhead; BENCH_TRANSFER_POLL_RPS=1000 lifts it.",
    );
  }
  console.log(`\n${verdicts.join("\n")}\n`);
  if (parts === "abcde") {
    const result = { when: new Date().toISOString(), settings, ...printed, latency, webhook, verdicts };
    mkdirSync("bench/results", { recursive: true });
    const file = `bench/results/engine${dynamicConfig.length ? "-transfer-rps" : ""}.json`;
    writeFileSync(file, JSON.stringify(result, null, 2));
    console.log(`results written to ${file}`);
  }
} finally {
  await pg.end({ timeout: 1 });
  await stop();
}
process.exit(0);
