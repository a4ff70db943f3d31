/** bench/engine's (d) one run at a time, answered in one request, and (e) a synchronous webhook under load. */
import type { HookLoad, Sequential } from "./engine-load.ts";
import { ALL, cpuBreakdown, pct, r1, r2, table } from "./engine-report.ts";

const one = (s: Sequential) => ({
  runs: s.latencies.length,
  failed: s.failed,
  p50_ms: r1(pct(s.latencies, 0.5)),
  p99_ms: r1(pct(s.latencies, 0.99)),
  last_error: s.last_error || undefined,
});

/** (d): Weft's one-node run via execute?wait beside one-step raw workflows awaited through the Temporal client. */
export function reportLatency(
  d: Record<"weft" | "rawLocal" | "raw", Sequential>,
  answerLagMs: number[],
  phases: Record<string, number[]>,
) {
  const lag = { p50_ms: r1(pct(answerLagMs, 0.5)), p99_ms: r1(pct(answerLagMs, 0.99)) };
  const phaseP50 = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, r1(pct(v, 0.5))]));
  const [weft, rawLocal, raw] = [one(d.weft), one(d.rawLocal), one(d.raw)];
  const ratio = r2(weft.p50_ms / rawLocal.p50_ms);
  console.log(`\n(d) one-node run, sequential, ${weft.runs + weft.failed} runs each, interleaved`);
  table(["figure", "Weft, execute?wait", "raw: 1 local activity", "raw: 1 activity"], [
    ["p50 (ms)", weft.p50_ms, rawLocal.p50_ms, raw.p50_ms],
    ["p99 (ms)", weft.p99_ms, rawLocal.p99_ms, raw.p99_ms],
    ["succeeded / failed", ...[weft, rawLocal, raw].map((x) => `${x.runs} / ${x.failed}`)],
    ["Weft p50 / this", "", `${ratio}× (target ≤ 1.3×)`, `${r2(weft.p50_ms / raw.p50_ms)}×`],
    ["Weft: answer after the final write, p50 / p99 (ms)", `${lag.p50_ms} / ${lag.p99_ms}`, "", ""],
    ...Object.entries(phaseP50).map(([k, v]) => [`Weft: API's ${k} phase, p50 (ms)`, v, "", ""]),
  ]);
  const verdict = `(d) ${ratio <= 1.3 ? "MET" : "NOT MET"}: one node through execute?wait, p50 ${weft.p50_ms} ms / ` +
    `p99 ${weft.p99_ms} ms = ${ratio}× a raw one-step local-activity run (${rawLocal.p50_ms} ms; target ≤ 1.3×); ` +
    `raw one-step regular activity ${raw.p50_ms} ms.`;
  return {
    weft,
    raw_local: rawLocal,
    raw,
    weft_over_raw_local_p50: ratio,
    answer_after_final_write: lag,
    api_phases_p50_ms: phaseP50,
    verdict,
  };
}

/** (e): a 3-node chain behind `POST /api/hooks/{token}?wait=10`, autocannon's connections. */
export function reportWebhook(e: HookLoad) {
  const units = Math.max(1, e.succeeded + e.not_succeeded);
  const cpu = cpuBreakdown(e.cpu, units);
  const out = {
    runs_per_s: r1(e.succeeded / e.seconds),
    requests: e.requests,
    succeeded: e.succeeded,
    not_succeeded: e.not_succeeded,
    non2xx: e.non2xx,
    errors: e.errors,
    timeouts: e.timeouts,
    p50_ms: e.p50_ms,
    p99_ms: e.p99_ms,
    cpu,
  };
  console.log(`\n(e) 3-node chain via POST /api/hooks/{token}?wait=10, ${e.connections} connections, ${e.seconds} s`);
  table(["figure", "value"], [
    ["runs/s answered succeeded", out.runs_per_s],
    ["p50 / p99 (ms)", `${out.p50_ms} / ${out.p99_ms}`],
    ["requests / succeeded / not succeeded", `${out.requests} / ${out.succeeded} / ${out.not_succeeded}`],
    ["errors: non-2xx / connection / timeouts", `${out.non2xx} / ${out.errors} / ${out.timeouts}`],
    ...ALL.map((k) => [`CPU ms per run: ${k}`, cpu.procs[k].ms_per_unit]),
    ["CPU ms per run: all of ours", cpu.ours_ms_per_unit],
  ]);
  const verdict = `(e) synchronous webhook: ${out.runs_per_s} runs/s, p50 ${out.p50_ms} ms, p99 ${out.p99_ms} ms, ` +
    `${out.non2xx + out.errors + out.timeouts} errors, ${out.not_succeeded} answered without a succeeded run.`;
  return { ...out, verdict };
}
