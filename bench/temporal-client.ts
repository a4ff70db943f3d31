/**
 * How the API reaches Temporal: the API's HTTP-API client on Deno (what it uses) beside @temporalio/client's
 * gRPC on Node (the SDK's supported runtime, the baseline) and on Deno (what the API used before), same server,
 * same run, two rounds each. Each start is a new workflow; every 100th is described and cancelled.
 * Usage: node --import tsx bench/temporal-client.ts [starts=1000]
 */
import { execFileSync } from "node:child_process";
import { BENCH_TEMPORAL_ADDRESS, BENCH_TEMPORAL_PORT, startBenchStack } from "./stack.ts";

const n = process.argv[2] ?? "1000";
const stop = await startBenchStack();
const httpUrl = `http://127.0.0.1:${BENCH_TEMPORAL_PORT + 10}`; // scripts/temporal-dev.sh: gRPC port + 10
interface Result {
  runtime: string;
  transport: string;
  n: number;
  errors: number;
  p50_ms: number;
  p99_ms: number;
  rss_mb_over_run: number[];
}
const run = (cmd: string, args: string[], transport: string): Result =>
  JSON.parse(
    execFileSync(cmd, [...args, "bench/temporal-client-run.ts", BENCH_TEMPORAL_ADDRESS, n, transport, httpUrl])
      .toString().trim().split("\n").pop()!,
  );
const deno = ["node_modules/.bin/deno", ["run", "-A"]] as const;
const results: Result[] = [];
for (let round = 0; round < 2; round++) {
  results.push(run("node", ["--import", "tsx"], "grpc"));
  results.push(run(deno[0], [...deno[1]], "http"));
  results.push(run(deno[0], [...deno[1]], "grpc"));
}
console.log("client      starts  errors  p50 ms  p99 ms  rss MB over the run");
for (const r of results) {
  console.log(
    `${`${r.runtime} ${r.transport}`.padEnd(10)} ${String(r.n).padStart(7)}  ${String(r.errors).padStart(6)}  ${
      String(r.p50_ms).padStart(6)
    }  ${String(r.p99_ms).padStart(6)}  ${r.rss_mb_over_run.join(" → ")}`,
  );
}
const p50 = (rt: string, tr: string) =>
  results.filter((r) => r.runtime === rt && r.transport === tr).map((r) => r.p50_ms).sort((a, b) => a - b)[0];
const ratio = (rt: string, tr: string) => Math.round((p50(rt, tr) / p50("node", "grpc")) * 100) / 100;
console.log(
  `p50 vs Node gRPC (best of 2 rounds each): Deno HTTP API ${ratio("deno", "http")}, Deno gRPC ${
    ratio("deno", "grpc")
  }`,
);
stop();
process.exit(0);
