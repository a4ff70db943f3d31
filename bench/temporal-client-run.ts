/**
 * Starts N workflows in a row (describing and cancelling every 100th) and prints one JSON line: errors,
 * latency percentiles, memory. `grpc` uses @temporalio/client (runs on Deno and Node); `http` uses the API's
 * own client over Temporal's HTTP API (api/temporal/http.ts). bench/temporal-client.ts runs them side by side.
 * Usage: <runtime> bench/temporal-client-run.ts ADDRESS N grpc|http [HTTP_URL]
 */
import process from "node:process";
import { Client, Connection } from "@temporalio/client";
import { TemporalHttpClient } from "../api/temporal/http.ts";

const address = process.argv[2] ?? "127.0.0.1:7233";
const n = Number(process.argv[3] ?? 1000);
const transport = process.argv[4] === "http" ? "http" : "grpc";
const runtime = typeof (globalThis as { Deno?: unknown }).Deno === "object" ? "deno" : "node";

interface Ops {
  start(workflowId: string): Promise<void>;
  describeAndCancel(workflowId: string): Promise<void>;
  close(): Promise<void>;
}

async function grpcOps(): Promise<Ops> {
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  return {
    async start(workflowId) {
      await client.workflow.start("benchNoop", { taskQueue: "bench-client", workflowId, args: [{ workflowId }] });
    },
    async describeAndCancel(workflowId) {
      const handle = client.workflow.getHandle(workflowId);
      const d = await handle.describe();
      if (d.status.name !== "RUNNING") throw new Error(`unexpected status ${d.status.name}`);
      await handle.cancel();
    },
    close: () => connection.close(),
  };
}

function httpOps(): Ops {
  const client = new TemporalHttpClient({ url: process.argv[5] ?? "http://127.0.0.1:7243", namespace: "default" });
  return {
    async start(workflowId) {
      await client.startWorkflow("benchNoop", { taskQueue: "bench-client", workflowId, args: [{ workflowId }] });
    },
    async describeAndCancel(workflowId) {
      const status = await client.workflowStatus(workflowId);
      if (status !== "RUNNING") throw new Error(`unexpected status ${status}`);
      await client.cancelWorkflow(workflowId);
    },
    close: () => Promise.resolve(),
  };
}

const ops = transport === "http" ? httpOps() : await grpcOps();
const latencies: number[] = [];
const rss: number[] = [];
let errors = 0;
const tag = `${runtime}-${transport}-${Date.now()}`;
for (let i = 0; i < n; i++) {
  const started = performance.now();
  try {
    // No worker polls this queue: the bench measures the client, not workflow execution.
    await ops.start(`${tag}-${i}`);
    if (i % 100 === 0) await ops.describeAndCancel(`${tag}-${i}`);
  } catch (err) {
    errors++;
    if (errors < 5) console.error(err);
  }
  latencies.push(performance.now() - started);
  if (i % Math.max(1, Math.floor(n / 4)) === 0 || i === n - 1) rss.push(Math.round(process.memoryUsage().rss / 1e6));
}
latencies.sort((a, b) => a - b);
const pct = (p: number) => Math.round(latencies[Math.min(n - 1, Math.floor(n * p))] * 100) / 100;
console.log(
  JSON.stringify({ runtime, transport, n, errors, p50_ms: pct(0.5), p99_ms: pct(0.99), rss_mb_over_run: rss }),
);
await ops.close();
process.exit(0);
