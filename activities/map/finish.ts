/**
 * The end of a map node: item rows of child runs take their run's outcome, items that never ran are cancelled,
 * and the node's one execution records `{items, failed}` — each item's output in input order (null for an item
 * that did not succeed) and the failures — with its final status. Large outputs go back by reference.
 */
import type { MapConfig } from "../../core/control-nodes.ts";
import type { MapCounts, MapRequest, NodeError } from "../../core/contract.ts";
import { inlineOrRef } from "../../core/output-ref.ts";
import type { Sql } from "../../db/client.ts";
import type { RunGuard } from "../runs/run-guard.ts";

export async function finishMap(
  sql: Sql,
  guard: RunGuard,
  r: MapRequest,
): Promise<{ output: unknown; counts: MapCounts }> {
  await guard.forNodes(r.runId, [r.node], r.context);
  const config = r.node.config as MapConfig;
  const key = sql`m.run_id = ${r.runId} AND m.node_id = ${r.node.id}`;
  await sql`
    UPDATE map_items AS m SET status = c.status, output = c.output, error = c.error, updated_at = now()
    FROM workflow_runs AS c
    WHERE ${key} AND c.id = m.child_run_id AND m.status = 'running'
      AND c.status IN ('succeeded', 'failed', 'cancelled')`;
  await sql`UPDATE map_items AS m SET status = 'cancelled', updated_at = now()
            WHERE ${key} AND m.status IN ('pending', 'running')`;
  const rows = await sql`SELECT index, status, output, error FROM map_items AS m WHERE ${key} ORDER BY index`;
  const items = rows.map((row) => (row.status === "succeeded" ? row.output ?? null : null));
  const failed = rows.filter((row) => row.status === "failed").map((row) => ({
    index: Number(row.index),
    error: row.error,
  }));
  const counts: MapCounts = {
    total: rows.length,
    succeeded: rows.filter((row) => row.status === "succeeded").length,
    failed: failed.length,
  };
  const output = { items, failed };
  const fails = failed.length > 0 && config.on_item_failure !== "continue";
  const first = failed[0] as { index: number; error: { message?: string } | null } | undefined;
  const error: NodeError | null = fails
    ? {
      message: `${failed.length} of ${rows.length} items failed; item ${first!.index}: ${first!.error?.message ?? ""}`,
      type: "MapItemFailed",
      retryable: false,
    }
    : null;
  await sql`
    UPDATE node_executions SET status = ${fails ? "failed" : "succeeded"}, finished_at = now(),
      output = ${sql.json(output as never)}, error = ${error ? sql.json(error as never) : null},
      duration_ms = (extract(epoch FROM now() - started_at) * 1000)::int
    WHERE run_id = ${r.runId} AND node_id = ${r.node.id} AND attempt = 1
      AND EXISTS (SELECT 1 FROM workflow_runs WHERE id = ${r.runId} AND status IN ('running', 'waiting'))`;
  return { output: inlineOrRef(r.runId, r.node.id, output), counts };
}
