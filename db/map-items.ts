/**
 * A map node's item rows (map_items): written when the map's items are evaluated, then by each item attempt —
 * group-committed like node_executions, so the items running at once in one worker share statements — and read
 * back to assemble the map's output and to answer `GET …/nodes/{name}/items`.
 */
import { groupCommit } from "../core/group-commit.ts";
import type { Sql } from "./client.ts";
import type { AttemptEnd, AttemptStart } from "./node-executions.ts";

export const MAP_ITEM_STATUSES = ["pending", "running", "succeeded", "failed", "cancelled"] as const;
export type MapItemStatus = typeof MAP_ITEM_STATUSES[number];

export interface MapItemRow {
  index: number;
  status: MapItemStatus;
  attempts: number;
  output: unknown;
  error: unknown;
  child_run_id: string | null;
}

/** Rows for every item, in batches (a 10,000-item list is a few statements); existing rows are kept. */
export async function insertMapItems(sql: Sql, runId: string, nodeId: string, items: unknown[]): Promise<void> {
  const BATCH = 2000;
  for (let from = 0; from < items.length; from += BATCH) {
    const rows = items.slice(from, from + BATCH).map((item, i) => ({ index: from + i, item: item ?? null }));
    await sql`
      INSERT INTO map_items (run_id, node_id, index, item)
      SELECT ${runId}, ${nodeId}, r.index, r.item
        FROM jsonb_to_recordset(${sql.json(rows as never)}) AS r(index int, item jsonb)
      ON CONFLICT (run_id, node_id, index) DO NOTHING`;
  }
}

/**
 * Items a re-run takes from the run it retries: those that succeeded there, for the same node and the same item
 * value, keep their output (and child run) and are not run again.
 */
export async function reuseMapItems(sql: Sql, runId: string, retryOf: string, nodeId: string): Promise<void> {
  await sql`
    UPDATE map_items AS m SET status = 'succeeded', output = o.output, attempts = 0, child_run_id = o.child_run_id,
      updated_at = now()
    FROM map_items AS o
    WHERE m.run_id = ${runId} AND m.node_id = ${nodeId} AND m.status = 'pending'
      AND o.run_id = ${retryOf} AND o.node_id = ${nodeId} AND o.index = m.index AND o.status = 'succeeded'
      AND o.item IS NOT DISTINCT FROM m.item`;
}

/** One item's attempts, as an attempt log (activities/node-attempt.ts) that writes the item's row. */
export function createMapItemLog(sql: Sql) {
  const started = groupCommit<AttemptStart & { index: number }, number | undefined>(async (items) => {
    const rows = await sql`
      UPDATE map_items AS m SET status = 'running', attempts = a.attempt, updated_at = now()
        FROM jsonb_to_recordset(${sql.json(items as never)}) AS a(run_id uuid, node_id uuid, index int, attempt int)
       WHERE m.run_id = a.run_id AND m.node_id = a.node_id AND m.index = a.index
         AND EXISTS (SELECT 1 FROM workflow_runs r WHERE r.id = a.run_id AND r.status IN ('running', 'waiting'))
      RETURNING m.index`;
    const updated = new Set(rows.map((r) => Number(r.index)));
    return items.map((i) => (updated.has(i.index) ? i.index : undefined));
  });
  const finished = groupCommit<AttemptEnd & { node_id: string }, void>(async (items) => {
    const rows = items.map((i) => ({ ...i, output: i.output ?? null }));
    await sql`
      UPDATE map_items AS m SET status = e.status, output = e.output, error = e.error, updated_at = now()
        FROM jsonb_to_recordset(${sql.json(rows as never)}) AS e(id int, run_id uuid, node_id uuid, status text,
                                                               output jsonb, error jsonb)
       WHERE m.run_id = e.run_id AND m.node_id = e.node_id AND m.index = e.id`;
    return items.map(() => undefined);
  });
  /** The log of one item of a map node: the "row id" it hands out is the item's index. */
  return (nodeId: string, index: number) => ({
    started: (a: AttemptStart) => started({ ...a, index }),
    finished: (a: AttemptEnd) => finished({ ...a, node_id: nodeId }),
  });
}

/** Each map node's items of a run by status: `running` counts those not finished yet (pending included). */
export async function mapItemCounts(
  sql: Sql,
  runId: string,
): Promise<Map<string, { total: number; succeeded: number; failed: number; running: number }>> {
  const rows = await sql`
    SELECT m.node_id, count(*)::int AS total,
      count(*) FILTER (WHERE coalesce(c.status, m.status) = 'succeeded')::int AS succeeded,
      count(*) FILTER (WHERE coalesce(c.status, m.status) = 'failed')::int AS failed,
      count(*) FILTER (WHERE coalesce(c.status, m.status) IN ('pending', 'running', 'waiting'))::int AS running
    FROM map_items m LEFT JOIN workflow_runs c ON c.id = m.child_run_id
    WHERE m.run_id = ${runId} GROUP BY m.node_id`;
  return new Map(rows.map((r) => [r.node_id as string, {
    total: r.total as number,
    succeeded: r.succeeded as number,
    failed: r.failed as number,
    running: r.running as number,
  }]));
}

/** One page of a map node's items, by index after `after`; a child run's live status wins over the row's. */
export async function mapItemsPage(
  sql: Sql,
  q: { runId: string; nodeId: string; status?: string; after: number; limit: number },
): Promise<MapItemRow[]> {
  const rows = await sql<MapItemRow[]>`
    SELECT m.index, CASE WHEN c.status IN ('pending', 'waiting') THEN 'running' ELSE coalesce(c.status, m.status) END
             AS status,
           m.attempts, coalesce(m.output, c.output) AS output, coalesce(m.error, c.error) AS error, m.child_run_id
    FROM map_items m LEFT JOIN workflow_runs c ON c.id = m.child_run_id AND m.status = 'running'
    WHERE m.run_id = ${q.runId} AND m.node_id = ${q.nodeId} AND m.index > ${q.after}
      ${
    q.status
      ? sql`AND CASE WHEN c.status IN ('pending', 'waiting') THEN 'running'
                          ELSE coalesce(c.status, m.status) END = ${q.status}`
      : sql``
  }
    ORDER BY m.index LIMIT ${q.limit}`;
  return [...rows];
}
