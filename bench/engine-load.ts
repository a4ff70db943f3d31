/**
 * The ways bench/engine.ts drives runs: closed-loop clients for a time window (c), one run after another for
 * latency (d), and autocannon's open connections against a webhook URL (e).
 */
import autocannon from "autocannon";
import type { WeftApi } from "./engine-api.ts";
import type { Load } from "./engine-report.ts";
import type { cpuMeter, Sample } from "./proc-cpu.ts";

type Meter = ReturnType<typeof cpuMeter>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `clients` loops for `seconds`, each running `once` (which resolves to the run's final status) again and again;
 * a run counts if it ends inside the window, a success if it `succeeded`.
 */
export async function closedLoop(
  meter: Meter,
  api: WeftApi,
  { seconds, clients }: { seconds: number; clients: number },
  once: () => Promise<string>,
): Promise<Load> {
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
}

/** Latencies (ms) of `count` runs of each variant one at a time, the variants interleaved run by run. */
export interface Sequential {
  latencies: number[];
  failed: number;
  last_error: string;
}

export async function sequential<K extends string>(
  count: number,
  variants: Record<K, () => Promise<string>>,
): Promise<Record<K, Sequential>> {
  const names = Object.keys(variants) as K[];
  const out = {} as Record<K, Sequential>;
  for (const name of names) out[name] = { latencies: [], failed: 0, last_error: "" };
  for (const name of names) for (let i = 0; i < 5; i++) await variants[name](); // warm-up
  for (let i = 0; i < count; i++) {
    for (const name of i % 2 ? [...names].reverse() : names) {
      const t0 = performance.now();
      try {
        const status = await variants[name]();
        if (status === "succeeded") out[name].latencies.push(performance.now() - t0);
        else out[name].failed++;
      } catch (err) {
        out[name].failed++;
        out[name].last_error = (err as Error).message.slice(0, 300);
      }
    }
  }
  return out;
}

/** What (e) reports: autocannon's figures plus our own check of every answer. */
export interface HookLoad {
  seconds: number;
  connections: number;
  requests: number;
  succeeded: number;
  /** 200 with a run that did not succeed, or a 202 (still running after the wait). */
  not_succeeded: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50_ms: number;
  p99_ms: number;
  cpu: Sample;
}

/** `connections` keep POSTing to `url` for `seconds`; an answer counts as a success if it is a succeeded run. */
export function hookLoad(
  meter: Meter,
  url: string,
  { seconds, connections }: { seconds: number; connections: number },
): Promise<HookLoad> {
  let succeeded = 0;
  let notSucceeded = 0;
  const onResponse = (status: number, body: string) => {
    let run: { status?: string } = {};
    try {
      run = JSON.parse(body);
    } catch { /* counted below */ }
    if (status === 200 && run.status === "succeeded") succeeded++;
    else if (status < 300) notSucceeded++;
  };
  return meter.sample().then((before) =>
    new Promise<HookLoad>((resolve, reject) => {
      autocannon({
        url,
        connections,
        duration: seconds,
        timeout: 30,
        requests: [{ method: "POST", headers: { "content-type": "application/json" }, body: "{}", onResponse }],
      }, async (err: Error | null, r: AutocannonResult) => {
        if (err) return reject(err);
        resolve({
          seconds,
          connections,
          requests: r.requests.total,
          succeeded,
          not_succeeded: notSucceeded,
          non2xx: r.non2xx,
          errors: r.errors,
          timeouts: r.timeouts,
          p50_ms: r.latency.p50,
          p99_ms: r.latency.p99,
          cpu: meter.diff(before, await meter.sample()),
        });
      });
    })
  );
}

/** The part of autocannon's result (the package ships no types) this bench reads. */
interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
