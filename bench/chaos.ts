/**
 * The long chaos run: batches of `runs` runs per scenario on a stack of its own (test/chaos.ts), each process
 * killed with SIGKILL mid-batch — a worker, Temporal, the API, worker and Temporal together, four worker kills
 * in one batch — plus a burst of keyed executes and a quiet baseline batch. Prints the table that
 * docs/benchmarks.md keeps. Uses the test stack's settings (WEFT_TEST_TEMPORAL_PORT, TEST_DATABASE_URL):
 *
 *   WEFT_TEST_TEMPORAL_PORT=7299 node --import tsx bench/chaos.ts [runs=300]
 */
import process from "node:process";
import { setup, teardown } from "../test/global-setup.ts";
import { ChaosStack, chaosTable, passed, type ScenarioResult } from "../test/chaos.ts";

const runs = Number(process.argv[2] ?? 300);
await setup();
const stack = new ChaosStack();
const results: ScenarioResult[] = [];
try {
  await stack.start();
  const plan: [string, Parameters<ChaosStack["scenario"]>[1]][] = [
    ["baseline", "none"],
    ["worker", "worker"],
    ["temporal", "temporal"],
    ["api", "api"],
    ["worker+temporal", "worker+temporal"],
    ["workers x4", "workers x4"],
    ["burst", "burst"],
  ];
  for (const [name, fault] of plan) {
    const r = await stack.scenario(name, fault, fault === "burst" ? 10 : runs, 3000);
    results.push(r);
    console.log(`${name}: ${passed(r) ? "ok" : "FAILED"} (${r.wallS} s)`);
  }
} finally {
  console.log(`\n${chaosTable(results)}\n`);
  await stack.stop();
  await teardown();
}
process.exit(results.every(passed) ? 0 : 1);
