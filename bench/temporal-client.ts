/**
 * Evidence for running the API on Deno: @temporalio/client under Deno vs under Node (the supported
 * runtime, the baseline), same server, same run. Each start is followed by a terminate; every 100th is
 * described and cancelled first.  Usage: node --import tsx bench/temporal-client.ts [starts=1000]
 */
import { execFileSync } from "node:child_process";
import { BENCH_TEMPORAL_ADDRESS, startBenchStack } from "./stack.ts";

const n = process.argv[2] ?? "1000";
const stop = await startBenchStack();
const run = (cmd: string, args: string[]) =>
  JSON.parse(
    execFileSync(cmd, [...args, "bench/temporal-client-run.ts", BENCH_TEMPORAL_ADDRESS, n]).toString().trim().split(
      "\n",
    ).pop()!,
  );
const results = [];
for (let round = 0; round < 2; round++) {
  results.push(run("node", ["--import", "tsx"]));
  results.push(run("node_modules/.bin/deno", ["run", "-A"]));
}
console.log("runtime  starts  errors  p50 ms  p99 ms  rss MB over the run");
for (const r of results) {
  console.log(
    `${r.runtime.padEnd(8)} ${String(r.n).padStart(6)}  ${String(r.errors).padStart(6)}  ${
      String(r.p50_ms).padStart(6)
    }  ${String(r.p99_ms).padStart(6)}  ${r.rss_mb_over_run.join(" → ")}`,
  );
}
const p50 = (rt: string) => results.filter((r) => r.runtime === rt).map((r) => r.p50_ms).sort((a, b) => a - b)[0];
console.log(`Deno/Node p50 ratio (best of 2 rounds each): ${Math.round((p50("deno") / p50("node")) * 100) / 100}`);
stop();
process.exit(0);
