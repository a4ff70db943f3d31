/** bench/engine's figures: medians, ratios, CPU per process, the printed tables and the verdict on each target. */
import type { Sample } from "./proc-cpu.ts";
import { median } from "./stack.ts";

export interface Rounds {
  wall: number[];
  nodeSum: number[];
  cpu: Sample;
  /** [events, bytes] of the last run's Temporal history. */
  history: number[];
}
export interface Load {
  succeeded: number;
  failed: number;
  errors: number;
  after_window: number;
  latencies: number[];
  last_error: string;
  cpu: Sample;
  executes: number;
  polls: number;
}
export interface Settings {
  n: number;
  seconds: number;
  rounds: number;
  /** Windows of `seconds` per variant in (c), alternated. */
  c_rounds: number;
  clients: number;
  /** Runs of each variant in (d). */
  d_runs: number;
  temporal_dynamic_config: string[];
}

export const PROCS = ["temporal", "worker", "api", "postgres", "postgres_background", "bench"];
export const ALL = [...PROCS, "others"];
export const r1 = (x: number) => Math.round(x * 10) / 10;
export const r2 = (x: number) => Math.round(x * 100) / 100;
const signed = (x: number) => `${x < 0 ? "−" : "+"}${Math.abs(x)} ms`;
export const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : NaN;
};

export function table(head: string[], rows: (string | number)[][]) {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
  console.log(["", line(head), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n"));
}

/** CPU of each process in cores (CPU ms per wall ms) and in ms per unit of work; "others" is the rest of the machine. */
export function cpuBreakdown(cpu: Sample, units: number) {
  const ours = PROCS.reduce((t, k) => t + (cpu[k] ?? 0), 0);
  const procs: Record<string, { cores: number; ms_per_unit: number }> = {};
  for (const k of ALL) {
    const ms = k === "others" ? cpu.machine_busy - ours : cpu[k];
    procs[k] = { cores: r2(ms / cpu.wall), ms_per_unit: r2(ms / units) };
  }
  return {
    procs,
    ours_ms_per_unit: r2(ours / units),
    machine_busy_cores: r2(cpu.machine_busy / cpu.wall),
    machine_cores: r2(cpu.machine_total / cpu.wall),
  };
}
export type Cpu = ReturnType<typeof cpuBreakdown>;

const loadSummary = (l: Load, seconds: number) => ({
  runs_per_s: r1(l.succeeded / seconds),
  succeeded: l.succeeded,
  failed: l.failed,
  errors: l.errors,
  finished_after_window: l.after_window,
  p50_ms: Math.round(pct(l.latencies, 0.5)),
  p99_ms: Math.round(pct(l.latencies, 0.99)),
  api_requests_per_s: r1((l.executes + l.polls) / (l.cpu.wall / 1000)),
  polls_per_run: r1(l.polls / Math.max(1, l.executes)),
  last_error: l.last_error || undefined,
  cpu: cpuBreakdown(l.cpu, Math.max(1, l.succeeded + l.failed + l.after_window)),
});
type LoadSummary = ReturnType<typeof loadSummary>;

function chainSummary(s: Settings, weft: Rounds, raw: Rounds) {
  const [wW, rW, wS, rS] = [weft.wall, raw.wall, weft.nodeSum, raw.nodeSum].map(median);
  return {
    weft_wall_ms: Math.round(wW),
    raw_wall_ms: Math.round(rW),
    ratio: r2(wW / rW),
    weft_per_node_ms: r2(wW / s.n),
    raw_per_node_ms: r2(rW / s.n),
    overhead_per_node_ms: r2((wW - rW) / s.n),
    weft_node_duration_sum_ms: Math.round(wS),
    raw_activity_time_sum_ms: Math.round(rS),
    inside_overhead_per_node_ms: r2((wS - rS) / s.n),
    weft_gap_per_node_ms: r2((wW - wS) / s.n),
    raw_gap_per_node_ms: r2((rW - rS) / s.n),
    weft_history: { events: weft.history[0], kb: Math.round(weft.history[1] / 1024) },
    raw_history: { events: raw.history[0], kb: Math.round(raw.history[1] / 1024) },
    weft_cpu: cpuBreakdown(weft.cpu, s.rounds * s.n),
    raw_cpu: cpuBreakdown(raw.cpu, s.rounds * s.n),
  };
}

function fanSummary(s: Settings, b: Record<"fan" | "single" | "rawFan" | "rawSingle", Rounds>) {
  const [fW, sW, rfW, rsW] = [b.fan.wall, b.single.wall, b.rawFan.wall, b.rawSingle.wall].map(median);
  return {
    fan_out_wall_ms: Math.round(fW),
    single_wall_ms: Math.round(sW),
    ratio: r2(fW / sW),
    raw_fan_out_wall_ms: Math.round(rfW),
    raw_single_wall_ms: Math.round(rsW),
    raw_ratio: r2(rfW / rsW),
    fan_out_node_duration_sum_ms: Math.round(median(b.fan.nodeSum)),
    raw_fan_out_activity_time_sum_ms: Math.round(median(b.rawFan.nodeSum)),
    fan_out_cpu: cpuBreakdown(b.fan.cpu, s.rounds),
    raw_fan_out_cpu: cpuBreakdown(b.rawFan.cpu, s.rounds),
  };
}

export const cpuRows = (label: string, cpus: Cpu[]) => [
  ...ALL.map((k) => [`${label}: ${k}`, ...cpus.map((c) => c.procs[k].ms_per_unit)]),
  [`${label}: all of ours`, ...cpus.map((c) => c.ours_ms_per_unit)],
];

/** (c): Weft driven with execute?wait=30 beside the two hand-written chains, rounds of `seconds` alternated. */
export type ThroughputRounds = Record<"weft" | "raw" | "rawLocal", Load[]>;

function throughputSummary(s: Settings, c: ThroughputRounds) {
  const per = (loads: Load[]) => {
    const rounds = loads.map((l) => loadSummary(l, s.seconds));
    const cpu = loads.reduce((t, l) => {
      for (const [k, v] of Object.entries(l.cpu)) t[k] = (t[k] ?? 0) + v;
      return t;
    }, {} as Sample);
    const units = loads.reduce((t, l) => t + l.succeeded + l.failed + l.after_window, 0);
    return {
      runs_per_s_median: median(rounds.map((r) => r.runs_per_s)),
      runs_per_s_rounds: rounds.map((r) => r.runs_per_s),
      succeeded: rounds.reduce((t, r) => t + r.succeeded, 0),
      failed: rounds.reduce((t, r) => t + r.failed, 0),
      errors: rounds.reduce((t, r) => t + r.errors, 0),
      after_window: rounds.reduce((t, r) => t + r.finished_after_window, 0),
      p50_ms: median(rounds.map((r) => r.p50_ms)),
      p99_ms: median(rounds.map((r) => r.p99_ms)),
      requests_per_run: r1((loads.reduce((t, l) => t + l.executes + l.polls, 0)) / Math.max(1, units)),
      last_error: rounds.map((r) => r.last_error).filter(Boolean).at(-1),
      cpu: cpuBreakdown(cpu, Math.max(1, units)),
    };
  };
  const weft = per(c.weft);
  const raw = per(c.raw);
  const rawLocal = per(c.rawLocal);
  return {
    weft,
    raw,
    raw_local: rawLocal,
    weft_over_raw: r2(weft.runs_per_s_median / raw.runs_per_s_median),
    weft_over_raw_local: r2(weft.runs_per_s_median / rawLocal.runs_per_s_median),
  };
}

function printThroughput(s: Settings, t: ReturnType<typeof throughputSummary>) {
  console.log(
    `\n(c) 3-node chain, ${s.clients} concurrent clients, ${s.c_rounds} × ${s.seconds} s per column, medians`,
  );
  const cols = [t.weft, t.raw, t.raw_local];
  table(["figure", "Weft, execute?wait=30", "raw: 3 activities", "raw: 3 local activities"], [
    ["runs/s succeeded, median", ...cols.map((l) => l.runs_per_s_median)],
    ["  each round", ...cols.map((l) => l.runs_per_s_rounds.join(" "))],
    ["Weft / this", "", `${t.weft_over_raw}× (target ≥ 1.0)`, `${t.weft_over_raw_local}× (target ≥ 0.8)`],
    ["succeeded / failed / errors", ...cols.map((l) => `${l.succeeded} / ${l.failed} / ${l.errors}`)],
    ["ended after the window (not counted)", ...cols.map((l) => l.after_window)],
    ["p50 / p99 end to end (ms)", ...cols.map((l) => `${l.p50_ms} / ${l.p99_ms}`)],
    ["API requests per run", t.weft.requests_per_run, "-", "-"],
    ...ALL.map((k) => [`CPU cores: ${k}`, ...cols.map((l) => l.cpu.procs[k].cores)]),
    ["CPU cores: machine busy", ...cols.map((l) => `${l.cpu.machine_busy_cores} of ${l.cpu.machine_cores}`)],
    ...cpuRows("CPU ms per run", cols.map((l) => l.cpu)),
  ]);
  if (t.weft.last_error) console.log(`    last Weft error: ${t.weft.last_error}`);
}

export interface EngineParts {
  a?: Record<"weft" | "raw", Rounds>;
  b?: Record<"fan" | "single" | "rawFan" | "rawSingle", Rounds>;
  c?: ThroughputRounds;
}

/** Prints the tables and verdicts of the parts that ran; returns their figures. */
export function report(s: Settings, parts: EngineParts) {
  const chain = parts.a && chainSummary(s, parts.a.weft, parts.a.raw);
  const fan = parts.b && fanSummary(s, parts.b);
  const throughput = parts.c && throughputSummary(s, parts.c);
  if (chain) {
    console.log(`\n(a) chain of ${s.n} http_request nodes, medians of ${s.rounds} rounds`);
    table(["figure", "Weft", "raw Temporal", "Weft / raw"], [
      ["wall, execute → succeeded (ms)", chain.weft_wall_ms, chain.raw_wall_ms, `${chain.ratio}× (target ≤ 1.1×)`],
      ["per node (ms)", chain.weft_per_node_ms, chain.raw_per_node_ms, signed(chain.overhead_per_node_ms)],
      ["sum of node durations (ms)", chain.weft_node_duration_sum_ms, chain.raw_activity_time_sum_ms, ""],
      [
        "  inside the activity, per node (ms)",
        r2(chain.weft_node_duration_sum_ms / s.n),
        r2(chain.raw_activity_time_sum_ms / s.n),
        signed(chain.inside_overhead_per_node_ms),
      ],
      [
        "  between nodes, per node (ms)",
        chain.weft_gap_per_node_ms,
        chain.raw_gap_per_node_ms,
        signed(r2(chain.weft_gap_per_node_ms - chain.raw_gap_per_node_ms)),
      ],
      [
        "history events / KB",
        `${chain.weft_history.events} / ${chain.weft_history.kb}`,
        `${chain.raw_history.events} / ${chain.raw_history.kb}`,
        "",
      ],
      ...cpuRows("CPU ms per node", [chain.weft_cpu, chain.raw_cpu]),
    ]);
  }
  if (fan) {
    console.log(`\n(b) ${s.n} nodes after one start node (max_parallel 64) vs one node, medians of ${s.rounds} rounds`);
    table(["figure", `fan-out (${s.n + 1} nodes)`, "single node", "fan-out / single"], [
      ["Weft: wall, execute → succeeded (ms)", fan.fan_out_wall_ms, fan.single_wall_ms, `${fan.ratio}× (target ≤ 3×)`],
      ["raw Temporal: wall (ms)", fan.raw_fan_out_wall_ms, fan.raw_single_wall_ms, `${fan.raw_ratio}×`],
    ]);
    table(["figure", "Weft fan-out", "raw fan-out"], [
      ["sum of node durations (ms)", fan.fan_out_node_duration_sum_ms, fan.raw_fan_out_activity_time_sum_ms],
      ...cpuRows("CPU ms per run", [fan.fan_out_cpu, fan.raw_fan_out_cpu]),
    ]);
  }
  if (throughput) printThroughput(s, throughput);
  const verdicts = verdictsFor(chain, fan, throughput);
  return { chain, fan_out: fan, throughput, verdicts };
}

const top = (cpu: Cpu, n: number) =>
  [...ALL].sort((x, y) => cpu.procs[y].ms_per_unit - cpu.procs[x].ms_per_unit).slice(0, n)
    .map((k) => `${k} ${cpu.procs[k].ms_per_unit}`).join(", ");

function verdictsFor(
  chain?: ReturnType<typeof chainSummary>,
  fan?: ReturnType<typeof fanSummary>,
  t?: ReturnType<typeof throughputSummary>,
) {
  const out: string[] = [];
  if (chain) {
    out.push(
      `(a) ${chain.ratio <= 1.1 ? "MET" : "NOT MET"}: ${chain.ratio}× (≤ 1.1×), ${
        signed(chain.overhead_per_node_ms)
      } per node: ${signed(chain.inside_overhead_per_node_ms)} inside the node activity, the rest between nodes. ` +
        `CPU ms per node, Weft: ${top(chain.weft_cpu, 4)}; raw: ${top(chain.raw_cpu, 3)}.`,
    );
  }
  if (fan) {
    out.push(
      `(b) ${fan.ratio <= 3 ? "MET" : "NOT MET"}: fan-out of 50 took ${fan.ratio}× a single node (≤ 3×); ` +
        `raw Temporal ${fan.raw_ratio}×. CPU ms per fan-out run, Weft: ${top(fan.fan_out_cpu, 4)}; ` +
        `raw: ${top(fan.raw_fan_out_cpu, 3)}.`,
    );
  }
  if (t) {
    out.push(
      `(c) ${t.weft_over_raw >= 1 ? "MET" : "NOT MET"}: Weft (execute?wait=30) ${t.weft.runs_per_s_median} runs/s = ` +
        `${t.weft_over_raw}× the regular-activity chain (${t.raw.runs_per_s_median}; target ≥ 1.0×) and ` +
        `${t.weft_over_raw_local}× the local-activity chain (${t.raw_local.runs_per_s_median}; target ≥ 0.8×); ` +
        `stretch ≥ 40 runs/s ${t.weft.runs_per_s_median >= 40 ? "met" : "not met"}. CPU ms per run, Weft: ` +
        `${top(t.weft.cpu, 5)} = ${t.weft.cpu.ours_ms_per_unit} in all; raw ${t.raw.cpu.ours_ms_per_unit}, ` +
        `raw local ${t.raw_local.cpu.ours_ms_per_unit}.`,
    );
  }
  return out;
}
