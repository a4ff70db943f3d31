/**
 * Starts N workflows in a row with @temporalio/client (describing, cancelling and terminating every 100th)
 * and prints one JSON line: errors, latency percentiles, memory. Runs unchanged on Deno and Node, so
 * bench/temporal-client.ts can compare the two runtimes in one run.
 */
import process from "node:process";
import { Client, Connection } from "@temporalio/client";

const address = process.argv[2] ?? "127.0.0.1:7233";
const n = Number(process.argv[3] ?? 1000);
const runtime = typeof (globalThis as { Deno?: unknown }).Deno === "object" ? "deno" : "node";
const connection = await Connection.connect({ address });
const client = new Client({ connection });
const latencies: number[] = [];
const rss: number[] = [];
let errors = 0;
const tag = `${runtime}-${Date.now()}`;
for (let i = 0; i < n; i++) {
  const started = performance.now();
  try {
    // No worker polls this queue: the bench measures the client, not workflow execution.
    const handle = await client.workflow.start("benchNoop", {
      taskQueue: "bench-client",
      workflowId: `${tag}-${i}`,
      args: [{ i }],
    });
    if (i % 100 === 0) {
      const d = await handle.describe();
      if (d.status.name !== "RUNNING") throw new Error(`unexpected status ${d.status.name}`);
      await handle.cancel();
    }
    await handle.terminate("bench");
  } catch (err) {
    errors++;
    if (errors < 5) console.error(err);
  }
  latencies.push(performance.now() - started);
  if (i % Math.max(1, Math.floor(n / 4)) === 0 || i === n - 1) rss.push(Math.round(process.memoryUsage().rss / 1e6));
}
latencies.sort((a, b) => a - b);
const pct = (p: number) => Math.round(latencies[Math.min(n - 1, Math.floor(n * p))] * 100) / 100;
console.log(JSON.stringify({ runtime, n, errors, p50_ms: pct(0.5), p99_ms: pct(0.99), rss_mb_over_run: rss }));
await connection.close();
process.exit(0);
