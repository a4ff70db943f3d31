/**
 * bench/engine: Weft's engine against hand-written Temporal on the same server, worker and run.
 * (a) a chain of 50 http_request nodes through the API vs rawChain: 50 sequential bare HTTP activities;
 * (b) 50 nodes fanned out after one start node vs a single-node workflow, both through the API;
 * (c) runs/s of a 3-node chain driven through the API by concurrent clients (execute, then poll until final,
 *     or wait with GET …?wait=30, or await the workflow in Temporal) beside rawChain(3) driven straight through
 *     Temporal, with the CPU each process used.
 * Usage: node --import tsx bench/engine.ts [seconds for (c)=60] [rounds for (a),(b)=5] [clients=50] [poll ms=100]
 * BENCH_TRANSFER_POLL_RPS=1000 starts the dev server with history.transferProcessorMaxPollRPS raised from its
 * default of 20, which otherwise puts every workflow task after an activity on a 50 ms grid.
 * BENCH_PARTS=b (any of a, b, c) runs only those parts and prints their medians without writing results.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import postgres from "postgres";
import { chain, fanOut } from "./engine-api.ts";
import { BENCH_TASK_QUEUE as TASK_QUEUE, startEngineBench } from "./engine-stack.ts";
import { report } from "./engine-report.ts";
import type { rawChain, rawFanOut } from "./engine-workflows.ts";
import { cpuMeter, type Sample } from "./proc-cpu.ts";
import { BENCH_DATABASE_URL, BENCH_TEMPORAL_PORT } from "./stack.ts";

const [seconds, rounds, clients, pollMs] = [60, 5, 50, 100].map((d, i) => Number(process.argv[2 + i] ?? d));
const N = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
      taskQueue: TASK_QUEUE,
      workflowId: `bench-raw-${randomUUID()}`,
      args: [url, n],
    });
    const r = await handle.result();
    const wall = performance.now() - t0;
    const { historyLength, historySize } = await handle.describe();
    return { wall, nodeSum: r.activity_ms, history: [historyLength, historySize ?? 0] };
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

  /** `clients` loops for `seconds`; a run counts if it ends inside the window, a success if it succeeded. */
  const load = async (once: () => Promise<string>) => {
    const s = { succeeded: 0, failed: 0, errors: 0, after_window: 0, latencies: [] as number[], last_error: "" };
    const counts = { ...api.counts };
    const before = await meter.sample();
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          const status = await once();
          const t1 = performance.now();
          if (t1 > deadline) s.after_window++;
          else if (status !== "succeeded") s.failed++;
          else {
            s.succeeded++;
            s.latencies.push(t1 - t0);
          }
        } catch (err) {
          s.errors++;
          s.last_error = (err as Error).message.slice(0, 300);
          await sleep(100);
        }
      }
    }));
    const cpu = meter.diff(before, await meter.sample());
    return { ...s, cpu, executes: api.counts.execute - counts.execute, polls: api.counts.poll - counts.poll };
  };

  const parts = process.env.BENCH_PARTS ?? "abc";
  const medians = (r: Record<string, { wall: number[] }>) =>
    Object.entries(r).map(([k, v]) => `${k} ${Math.round(v.wall.sort((x, y) => x - y)[v.wall.length >> 1])} ms`);
  // BENCH_VARIANTS=weft or fan,single (comma-separated) runs only those, e.g. to profile one of them.
  const only = process.env.BENCH_VARIANTS?.split(",");
  const pick = (all: Record<string, Once>) =>
    Object.fromEntries(Object.entries(all).filter(([k]) => !only || only.includes(k)));
  if (parts !== "abc") {
    if (parts.includes("a")) {
      const a = await alternate(pick({ weft: () => weftOnce(wf.chain, N), raw: () => rawOnce("rawChain", N) }));
      console.log(`(a) medians: ${medians(a).join(", ")}`);
    }
    if (parts.includes("b")) {
      const all: Record<string, Once> = {
        fan: () => weftOnce(wf.fan, N + 1),
        single: () => weftOnce(wf.single, 1),
        rawFan: () => rawOnce("rawFanOut", N),
        rawSingle: () => rawOnce("rawChain", 1),
      };
      const b = await alternate(pick(all));
      console.log(`(b) medians: ${medians(b).join(", ")}`);
      for (const [k, v] of Object.entries(b)) console.log(`    ${k} cpu ${JSON.stringify(v.cpu)}`);
    }
    if (parts.includes("c")) {
      const c = await load(async () => {
        const { runId, temporalWorkflowId } = await api.execute(wf.chain3);
        await temporal.workflow.getHandle(temporalWorkflowId).result();
        return (await api.getRun(wf.chain3, runId)).status;
      });
      console.log(`(c) no polling: ${(c.succeeded / seconds).toFixed(1)} runs/s, cpu ${JSON.stringify(c.cpu)}`);
    }
  } else {
    console.log(`(a) chain of ${N} http_request nodes: Weft vs rawChain, ${rounds} rounds`);
    const a = await alternate({ weft: () => weftOnce(wf.chain, N), raw: () => rawOnce("rawChain", N) });
    console.log(`(b) fan-out of ${N} after one start node vs a single node, ${rounds} rounds`);
    const b = await alternate({
      fan: () => weftOnce(wf.fan, N + 1),
      single: () => weftOnce(wf.single, 1),
      rawFan: () => rawOnce("rawFanOut", N),
      rawSingle: () => rawOnce("rawChain", 1),
    });
    console.log(`(c) 3-node chain, ${clients} clients, ${seconds} s: through the API (poll every ${pollMs} ms)`);
    const cWeft = await load(async () => {
      const { runId } = await api.execute(wf.chain3);
      return (await api.waitFinal(wf.chain3, runId, pollMs)).status;
    });
    console.log(`    then through the API, each client waiting on GET …/runs/{run_id}?wait=30`);
    const cWait = await load(async () => {
      const { runId } = await api.execute(wf.chain3);
      return (await api.waitEnd(wf.chain3, runId)).status;
    });
    console.log(`    then executed through the API but awaited on Temporal (no polling)`);
    const cNoPoll = await load(async () => {
      const { runId, temporalWorkflowId } = await api.execute(wf.chain3);
      await temporal.workflow.getHandle(temporalWorkflowId).result();
      return (await api.getRun(wf.chain3, runId)).status;
    });
    console.log(`    then rawChain(3) started and awaited straight through Temporal`);
    const cRaw = await load(async () => (await rawOnce("rawChain", 3), "succeeded"));

    const result = report({ n: N, seconds, rounds, clients, pollMs, temporal_dynamic_config: dynamicConfig }, a, b, {
      weft: cWeft,
      wait: cWait,
      noPoll: cNoPoll,
      raw: cRaw,
    });
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
