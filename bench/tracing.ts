/**
 * What tracing costs per span: off (no OTEL_EXPORTER_OTLP_ENDPOINT, so no SDK: the OpenTelemetry API's no-op
 * tracer) and, with `--on`, with the SDK exporting in batches to a local receiver that accepts everything.
 * Run: node --import tsx bench/tracing.ts [--on]
 */
import { createServer } from "node:http";
import { dbSpan, traceHeaders, withSpan } from "../core/tracing.ts";

const on = process.argv.includes("--on");
const N = on ? 200_000 : 1_000_000;
const work = () => Promise.resolve(1);
let shutdown = async () => {};
let stopReceiver = () => {};

if (on) {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("{}"));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { startTracing } = await import("../core/tracing-sdk.ts");
  const tracing = startTracing(`http://127.0.0.1:${(server.address() as { port: number }).port}`, "bench");
  shutdown = tracing.shutdown;
  stopReceiver = () => server.close();
}

async function time(label: string, fn: () => Promise<unknown>) {
  for (let i = 0; i < 10_000; i++) await fn(); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await fn();
  const ns = Number(process.hrtime.bigint() - t0) / N;
  console.log(`${label.padEnd(34)} ${ns.toFixed(0).padStart(6)} ns/call`);
  return ns;
}

const mode = on ? "on" : "off";
const direct = await time("direct call", work);
const span = await time(`withSpan (${mode})`, () => withSpan("x", { a: 1 }, work));
await time(`dbSpan (${mode})`, () => dbSpan("x", work));
await time(`traceHeaders (${mode})`, () => withSpan("x", {}, () => Promise.resolve(traceHeaders())));
console.log(`withSpan overhead with tracing ${mode}: ${(span - direct).toFixed(0)} ns per span`);
await shutdown();
stopReceiver();
