/**
 * The baselines a Temporal user writes by hand: rawChain, a chain of HTTP activities (what most write), and
 * rawLocalChain, the same chain as local activities (what an expert writes). Bundled on their own, as a user's
 * workflow code would be: a workflow evaluates its bundle's modules afresh, so sharing Weft's bundle would charge
 * the baselines Weft's module initialisation (bench/engine-worker.ts runs them on a task queue of their own).
 */
import { proxyActivities, proxyLocalActivities } from "@temporalio/workflow";

/** The task queue of the hand-written baselines, beside Weft's queue `queue`. */
export const rawTaskQueue = (queue: string) => `${queue}-raw`;

export interface RawActivities {
  /** One `http_request`'s HTTP work with none of Weft's bookkeeping; `activity_ms` is its time inside the activity. */
  rawHttp(url: string): Promise<{ status: number; activity_ms: number }>;
  /** A transform's work with none of Weft's bookkeeping: the JSONata expression over `{item}`. */
  rawTransform(expression: string, item: unknown): Promise<unknown>;
}

// The same timeout and retry policy runDag gives an http_request node with no options of its own.
const options = {
  startToCloseTimeout: 70_000,
  retry: { maximumAttempts: 3, initialInterval: 1000, backoffCoefficient: 2, maximumInterval: 30_000 },
};
const { rawHttp, rawTransform } = proxyActivities<RawActivities>(options);
const local = proxyLocalActivities<RawActivities>(options);

/** The result of a raw chain: time inside the activities, and how many HTTP answers were 2xx (the check). */
export interface RawChainResult {
  activity_ms: number;
  ok: number;
}

async function chainOf(call: RawActivities["rawHttp"], url: string, n: number): Promise<RawChainResult> {
  let total = 0;
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const r = await call(url);
    total += r.activity_ms;
    if (r.status >= 200 && r.status < 300) ok++;
  }
  return { activity_ms: total, ok };
}

/** Calls rawHttp(url) n times in sequence as regular activities. */
export function rawChain(url: string, n: number): Promise<RawChainResult> {
  return chainOf(rawHttp, url, n);
}

/** The same chain as local activities: run inside the workflow task, no matching round trip per step. */
export function rawLocalChain(url: string, n: number): Promise<RawChainResult> {
  return chainOf(local.rawHttp, url, n);
}

/** One rawHttp, then n more at once: the baseline of Weft's fan-out. */
export async function rawFanOut(url: string, n: number): Promise<{ activity_ms: number }> {
  let total = (await rawHttp(url)).activity_ms;
  for (const r of await Promise.all(Array.from({ length: n }, () => rawHttp(url)))) total += r.activity_ms;
  return { activity_ms: total };
}

/**
 * The baseline of a map node: items 1..n, each one activity (an HTTP call to `url`, or `expression` over the
 * item), `batch` at a time with Promise.all; returns the results in order.
 */
export async function rawMap(n: number, batch: number, work: { url?: string; expression?: string }) {
  const results: unknown[] = [];
  for (let from = 1; from <= n; from += batch) {
    const items = Array.from({ length: Math.min(batch, n - from + 1) }, (_, i) => from + i);
    results.push(
      ...await Promise.all(
        items.map((item) => work.url ? rawHttp(`${work.url}?n=${item}`) : rawTransform(work.expression!, item)),
      ),
    );
  }
  return { count: results.length };
}
