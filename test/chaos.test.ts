/**
 * The chaos suite's short version (the long one: bench/chaos.ts, table in docs/benchmarks.md): batches of runs
 * on a stack of its own while the worker and Temporal are killed together, the API is killed, and keyed
 * executes arrive in a burst. Every check of every scenario must hold; the table is printed either way.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { ChaosStack, chaosTable, passed, type ScenarioResult } from "./chaos.ts";

const stack = new ChaosStack();
const results: ScenarioResult[] = [];

beforeAll(async () => {
  await stack.start();
}, 120_000);
afterAll(async () => {
  console.log(`\n${chaosTable(results)}\n`);
  await stack.stop();
});

it("chaos (short): worker and Temporal killed together, the API killed, a burst of keyed executes", async () => {
  results.push(await stack.scenario("worker+temporal", "worker+temporal", 15));
  results.push(await stack.scenario("api", "api", 15));
  results.push(await stack.scenario("burst", "burst", 10));
  for (const r of results) expect(passed(r), `${r.name}:\n${chaosTable(results)}`).toBe(true);
}, 150_000);
