/**
 * bench/control-flow: the control-flow nodes against hand-written Temporal on the same server and worker.
 * (a) a map over 1,000 transform items and (b) over 1,000 http_request items (a local server), concurrency 16,
 *     vs rawMap: 1,000 activities, 16 at a time with Promise.all;
 * (c) a sub_workflow round trip (parent → child of one transform node → parent) vs one plain transform node.
 * (d) `map-workflow` mode: a map over a tiny sub-workflow (one transform node) of `items` items, its child runs
 *     started through mapBatch workflows (WEFT_MAP_BATCH_ITEMS, 500), vs rawMap over as many transform items;
 *     reports the longest history among the map's run and its batches.
 * Usage: node --import tsx bench/control-flow.ts [rounds=5] [items=1000]
 *        node --import tsx bench/control-flow.ts map-workflow [items=10000] [rounds=1]
 * Results: bench/results/control-flow.json (control-flow-<items>.json for another count); docs/benchmarks.md has the numbers and what they mean.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { BENCH_TASK_QUEUE, startEngineBench } from "./engine-stack.ts";
import { type rawMap, rawTaskQueue } from "./engine-workflows.ts";
import { median } from "./stack.ts";

const mapWorkflowMode = process.argv[2] === "map-workflow";
const args = process.argv.slice(mapWorkflowMode ? 3 : 2);
const [rounds, items] = mapWorkflowMode
  ? [Number(args[1] ?? 1), Number(args[0] ?? 10_000)]
  : [5, 1000].map((d, i) => Number(args[i] ?? d));
const CONCURRENCY = 16;
const { api, temporal, url, stop } = await startEngineBench("control-flow");

/** A workflow of `nodes` (name, type, config) chained in order. */
async function graph(name: string, nodes: [string, string, Record<string, unknown>][]) {
  const wf = await api.call<{ id: string }>("POST", "/api/workflows", { name });
  const ids: string[] = [];
  for (const [node, type, config] of nodes) {
    ids.push(
      (await api.call<{ id: string }>("POST", `/api/workflows/${wf.id}/nodes`, { name: node, type, config })).id,
    );
  }
  for (let i = 1; i < ids.length; i++) {
    await api.call("POST", `/api/workflows/${wf.id}/edges`, { source_node_id: ids[i - 1], target_node_id: ids[i] });
  }
  return wf.id;
}

/** One Weft run: from POST execute until Temporal reports the workflow done; checks it succeeded. */
async function weftOnce(workflowId: string) {
  const t0 = performance.now();
  const { runId, temporalWorkflowId } = await api.execute(workflowId);
  const handle = temporal.workflow.getHandle(temporalWorkflowId);
  await handle.result();
  const wall = performance.now() - t0;
  const run = await api.getRun(workflowId, runId);
  if (run.status !== "succeeded") throw new Error(`run ${runId} is ${run.status}`);
  return { wall, history: (await handle.describe()).historyLength, runId, temporalWorkflowId };
}

async function rawOnce(work: { url?: string; expression?: string }) {
  const t0 = performance.now();
  const handle = await temporal.workflow.start<typeof rawMap>("rawMap", {
    taskQueue: rawTaskQueue(BENCH_TASK_QUEUE),
    workflowId: `bench-raw-map-${randomUUID()}`,
    args: [items, CONCURRENCY, work],
  });
  await handle.result();
  return { wall: performance.now() - t0, history: (await handle.describe()).historyLength };
}

type Once = () => Promise<{ wall: number; history: number }>;
/** A warm-up of each, then `rounds` rounds alternating the order. */
async function alternate(variants: Record<string, Once>, warmups = 1) {
  const names = Object.keys(variants);
  for (let w = 0; w < warmups; w++) for (const name of names) await variants[name]();
  const out: Record<string, { wall: number[]; history: number }> = {};
  for (const name of names) out[name] = { wall: [], history: 0 };
  for (let i = 0; i < rounds; i++) {
    for (const name of i % 2 ? [...names].reverse() : names) {
      const r = await variants[name]();
      out[name].wall.push(r.wall);
      out[name].history = r.history;
    }
    console.log(
      `  round ${i + 1}/${rounds}: ${names.map((n) => `${n} ${Math.round(out[n].wall.at(-1)!)} ms`).join(", ")}`,
    );
  }
  return Object.fromEntries(
    Object.entries(out).map((
      [k, v],
    ) => [k, { median_ms: Math.round(median(v.wall)), wall_ms: v.wall.map(Math.round), history_events: v.history }]),
  );
}

/**
 * (d): one run of the map over a workflow; the longest history among the map's run and every execution of its
 * batches (a batch continues as new when Temporal suggests it: each execution is listed by visibility).
 */
async function mapWorkflowOnce(workflowId: string) {
  const { wall, history: mapHistory, temporalWorkflowId } = await weftOnce(workflowId);
  const lengths: number[] = [];
  for await (const e of temporal.workflow.list({ query: `WorkflowType = 'mapBatch'` })) {
    if (e.workflowId.startsWith(`${temporalWorkflowId}-map-`)) lengths.push(e.historyLength);
  }
  console.log(
    `  map run: ${mapHistory} events; ${lengths.length} batch executions, the longest ${
      Math.max(0, ...lengths)
    } events`,
  );
  return { wall, history: Math.max(mapHistory, ...lengths) };
}

if (mapWorkflowMode) {
  try {
    const child = await graph("bench map child", [["inner", "transform", { expression: "input.x * 2" }]]);
    const map = await graph("bench map workflow", [[
      "each",
      "map",
      { items: `[1..${items}]`, workflow_id: child, input: { x: "{{item}}" }, concurrency: CONCURRENCY },
    ]]);
    console.log(`(d) map over ${items} sub-workflow items vs rawMap over ${items} transform items, ${rounds} rounds`);
    const d = await alternate({ weft: () => mapWorkflowOnce(map), raw: () => rawOnce({ expression: "item * 2" }) }, 0);
    const result = {
      items,
      concurrency: CONCURRENCY,
      rounds,
      map_workflow: { ...d, ratio: d.weft.median_ms / d.raw.median_ms },
    };
    console.log(JSON.stringify(result, null, 2));
    mkdirSync("bench/results", { recursive: true });
    writeFileSync(`bench/results/control-flow-map-workflow-${items}.json`, JSON.stringify(result, null, 2) + "\n");
  } finally {
    await stop();
  }
  process.exit(0);
}

try {
  const expression = "item * 2";
  const mapOf = (node: Record<string, unknown>) => ({ items: `[1..${items}]`, node, concurrency: CONCURRENCY });
  const transformMap = await graph("bench map transform", [[
    "each",
    "map",
    mapOf({ type: "transform", config: { expression } }),
  ]]);
  const httpMap = await graph("bench map http", [[
    "each",
    "map",
    mapOf({ type: "http_request", config: { url: `${url}?n={{item}}` } }),
  ]]);
  const child = await graph("bench child", [["inner", "transform", { expression: "input.x * 2" }]]);
  const parent = await graph("bench parent", [["call", "sub_workflow", { workflow_id: child, input: { x: 21 } }]]);
  const plain = await graph("bench plain", [["only", "transform", { expression: "21 * 2" }]]);

  console.log(`(a) map over ${items} transform items vs rawMap, ${rounds} rounds`);
  const a = await alternate({ weft: () => weftOnce(transformMap), raw: () => rawOnce({ expression }) });
  console.log(`(b) map over ${items} http_request items vs rawMap, ${rounds} rounds`);
  const b = await alternate({ weft: () => weftOnce(httpMap), raw: () => rawOnce({ url }) });
  console.log(`(c) sub_workflow round trip vs one plain transform node, ${rounds} rounds`);
  const c = await alternate({ sub_workflow: () => weftOnce(parent), plain: () => weftOnce(plain) });
  const ratio = (r: Record<string, { median_ms: number }>, x: string, y: string) =>
    Number((r[x].median_ms / r[y].median_ms).toFixed(2));
  const result = {
    items,
    concurrency: CONCURRENCY,
    rounds,
    map_transform: { ...a, ratio: ratio(a, "weft", "raw") },
    map_http: { ...b, ratio: ratio(b, "weft", "raw") },
    sub_workflow: { ...c, overhead_ms: c.sub_workflow.median_ms - c.plain.median_ms },
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/control-flow${items === 1000 ? "" : `-${items}`}.json`;
  writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  console.log(`results written to ${file}`);
} finally {
  await stop();
}
process.exit(0);
