/** Resolving output references: the full output of a node execution, read back from PostgreSQL. */
import { dbSpan } from "../core/tracing.ts";
import { isOutputRef, type OutputRef } from "../core/output-ref.ts";
import type { Sql } from "./client.ts";

export async function loadRef(sql: Sql, ref: OutputRef): Promise<unknown> {
  const { run_id, node_id } = ref.$weft_ref;
  const [row] = await sql`
    SELECT output FROM node_executions
    WHERE run_id = ${run_id} AND node_id = ${node_id} AND status IN ('succeeded', 'reused')
    ORDER BY attempt DESC LIMIT 1`;
  if (!row) throw new Error(`the output of node ${node_id} in run ${run_id} is gone`);
  // A reused output may itself be a reference to an earlier run's execution.
  return isOutputRef(row.output) ? loadRef(sql, row.output) : row.output;
}

/** The context with every upstream output that is a reference replaced by the output itself. */
export function resolveContext(sql: Sql, context: Record<string, unknown>): Promise<Record<string, unknown>> {
  return dbSpan("output_refs.resolve", () => resolveContextUntraced(sql, context));
}

async function resolveContextUntraced(sql: Sql, context: Record<string, unknown>): Promise<Record<string, unknown>> {
  const nodes = context.nodes as Record<string, { output: unknown }> | undefined;
  if (!nodes || !Object.values(nodes).some((n) => isOutputRef(n.output))) return context;
  const resolved: Record<string, { output: unknown }> = {};
  for (const [name, n] of Object.entries(nodes)) {
    resolved[name] = { output: isOutputRef(n.output) ? await loadRef(sql, n.output) : n.output };
  }
  return { ...context, nodes: resolved };
}
