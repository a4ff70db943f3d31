/**
 * What tracing costs when it is off (no OTEL_EXPORTER_OTLP_ENDPOINT, so no SDK): the per-call overhead of
 * core/tracing.ts's helpers (the OpenTelemetry API's no-op tracer) against the same work called directly.
 * Run: node --import tsx bench/tracing-off.ts
 */
import { dbSpan, traceHeaders, withSpan } from "../core/tracing.ts";

const N = 1_000_000;
const work = () => Promise.resolve(1);

async function time(label: string, fn: () => Promise<unknown>) {
  for (let i = 0; i < 10_000; i++) await fn(); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await fn();
  const ns = Number(process.hrtime.bigint() - t0) / N;
  console.log(`${label.padEnd(34)} ${ns.toFixed(0).padStart(6)} ns/call`);
  return ns;
}

const direct = await time("direct call", work);
const span = await time("withSpan (off)", () => withSpan("x", { a: 1 }, work));
await time("dbSpan (off)", () => dbSpan("x", work));
await time("traceHeaders (off)", () => Promise.resolve(traceHeaders()));
console.log(`withSpan overhead when off: ${(span - direct).toFixed(0)} ns per span`);
