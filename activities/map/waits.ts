/**
 * Activities of a map whose per-item node is a delay or a wait_for_event (workflows/nodes/map-waits.ts runs the
 * timers and waits): each item's config rendered over its context, and item rows written as items start and end
 * — many items per call — with their ends on the run's event stream (`map_items`, as the activity items give).
 */
import type { MapConfig } from "../../core/control-nodes.ts";
import type { MapItemConfig, MapItemsRecord, MapRequest } from "../../core/contract.ts";
import type { Sql } from "../../db/client.ts";
import { resolveContext } from "../../db/output-refs.ts";
import { appendRunEvent } from "../../db/run-events.ts";
import { TemplateError } from "../../core/template.ts";
import type { ExpressionPool } from "../expressions/pool.ts";
import type { RunGuard } from "../runs/run-guard.ts";

export function createMapWaitActivities(sql: Sql, guard: RunGuard, expressions: ExpressionPool) {
  return {
    /** Items not yet succeeded (a re-run took the others from the run it retries), in index order. */
    async mapItemConfigs(r: MapRequest): Promise<MapItemConfig[]> {
      await guard.forNodes(r.runId, [r.node], r.context);
      const value = (r.node.config as MapConfig).node!.config;
      const context = await resolveContext(sql, r.context);
      const rows = await sql`SELECT index, item FROM map_items WHERE run_id = ${r.runId} AND node_id = ${r.node.id}
                              AND status <> 'succeeded' ORDER BY index`;
      return await Promise.all(rows.map(async (row): Promise<MapItemConfig> => {
        const index = Number(row.index);
        if (!JSON.stringify(value).includes("{{")) return { index, config: value };
        try {
          const config = await expressions.render(value, { ...context, item: row.item, index });
          return { index, config: config as Record<string, unknown> };
        } catch (err) {
          if (err instanceof TemplateError) return { index, error: err.message };
          throw err;
        }
      }));
    },

    async recordMapItems(r: MapItemsRecord): Promise<void> {
      const run = await guard.forRun(r.runId);
      guard.checkNode(run, r.node);
      const rows = r.items.map((i) => ({ ...i, output: i.output ?? null, error: i.error ?? null }));
      await sql`
        UPDATE map_items AS m SET status = e.status, output = e.output, error = e.error, attempts = 1,
          updated_at = now()
          FROM jsonb_to_recordset(${sql.json(rows as never)}) AS e(index int, status text, output jsonb, error jsonb)
         WHERE m.run_id = ${r.runId} AND m.node_id = ${r.node.id} AND m.index = e.index
           AND EXISTS (SELECT 1 FROM workflow_runs w WHERE w.id = ${r.runId} AND w.status IN ('running', 'waiting'))`;
      const ended = r.items.filter((i) => i.status !== "running").map((i) => ({
        index: i.index,
        status: i.status,
        ...(i.error ? { error: i.error.message } : {}),
      }));
      // Progress is best effort, as the activity items' is (item-events.ts).
      if (ended.length) {
        await appendRunEvent(sql, r.runId, "map_items", { node_name: r.node.name, items: ended }).catch(() => {});
      }
    },
  };
}
