/** A run as `GET …/runs/{run_id}` answers it (and `execute?wait` / `hooks/{token}?wait` once it ended). */
import { isOutputRef } from "../../core/output-ref.ts";
import { loadRef } from "../../db/output-refs.ts";
import type { Services } from "../env.ts";
import { presentRun } from "./present.ts";
import { type NodeExecutionRow, nodeExecutions, type RunRow } from "./store.ts";
import { runUsage } from "./usage.ts";

/**
 * The run with its node executions (read here unless the caller read them alongside the row) and token usage;
 * outputs passed by reference are returned whole.
 */
export async function runView(services: Pick<Services, "sql" | "config">, row: RunRow, read?: NodeExecutionRow[]) {
  const { sql } = services;
  const executions = read ?? await nodeExecutions(sql, row.id);
  for (const e of executions) if (isOutputRef(e.output)) e.output = await loadRef(sql, e.output);
  if (row.output && typeof row.output === "object") {
    for (const [name, value] of Object.entries(row.output)) {
      if (isOutputRef(value)) row.output[name] = await loadRef(sql, value);
    }
  }
  return { ...presentRun(services.config, row), usage: runUsage(executions), node_executions: executions };
}
