/** The workflow_runs table's SQL as the API reads it, and the run and node-execution rows it returns. */
import type { Sql } from "../../db/client.ts";
import type { WorkflowSnapshot } from "../../core/snapshot.ts";
import { type RunTrigger, STARTED_BY_A_WORKFLOW } from "../../db/runs.ts";
import { FINAL_RUN_STATUSES, type NodeStatus, type RunStatus } from "../../core/contract.ts";
import { notFound } from "../errors.ts";
import { mapItemCounts } from "../../db/map-items.ts";

export const RUN_COLUMNS =
  "id, workflow_id, status, trigger, retry_of, parent_run_id, parent_node, input, output, error, workflow_version, version_hash, created_at, started_at, finished_at, temporal_workflow_id, temporal_run_id";

/** A run in one of these statuses has ended for good. */
export { FINAL_RUN_STATUSES };

export interface RunRow {
  id: string;
  workflow_id: string;
  status: RunStatus;
  trigger: RunTrigger;
  retry_of: string | null;
  parent_run_id: string | null;
  parent_node: string | null;
  input: Record<string, unknown>;
  output: Record<string, unknown> | null;
  error: unknown;
  workflow_version: number;
  version_hash: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  temporal_workflow_id: string;
  temporal_run_id: string | null;
}

export interface NodeExecutionRow {
  /** A map node's items by status (map_items). */
  items?: { total: number; succeeded: number; failed: number; running: number };
  node_id: string;
  node_name: string;
  type: string;
  status: NodeStatus;
  attempt: number;
  input: unknown;
  output: unknown;
  error: unknown;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  execution: "local" | "activity" | null;
}

/** The run, if it is the workspace's and belongs to that workflow; another workspace's is a 404 like a missing one. */
export async function getOwnedRun(sql: Sql, workflowId: string, runId: string, workspaceId: string): Promise<RunRow> {
  // Runs stay readable after their workflow is soft-deleted; the workspace is the run's own.
  const [found] = await sql<RunRow[]>`SELECT ${sql.unsafe(RUN_COLUMNS)} FROM workflow_runs
    WHERE id = ${runId} AND workflow_id = ${workflowId} AND workspace_id = ${workspaceId}`;
  if (!found) throw notFound("run");
  return found;
}

export async function listRuns(sql: Sql, workflowId: string, page: { limit: number; offset: number }) {
  const [rows, [{ total }]] = await Promise.all([
    sql<RunRow[]>`SELECT ${sql.unsafe(RUN_COLUMNS)} FROM workflow_runs WHERE workflow_id = ${workflowId}
        ORDER BY created_at DESC, id DESC LIMIT ${page.limit} OFFSET ${page.offset}`,
    sql<{ total: number }[]>`SELECT count(*)::int AS total FROM workflow_runs WHERE workflow_id = ${workflowId}`,
  ]);
  return { rows: [...rows], total };
}

export async function nodeExecutions(sql: Sql, runId: string): Promise<NodeExecutionRow[]> {
  const rows = await sql<NodeExecutionRow[]>`
    SELECT node_id, node_name, type, status, attempt, input, output, error, started_at, finished_at, duration_ms,
      execution
    FROM node_executions WHERE run_id = ${runId} ORDER BY started_at, id`;
  const maps = rows.filter((r) => r.type === "map");
  if (maps.length) {
    const counts = await mapItemCounts(sql, runId);
    for (const row of maps) row.items = counts.get(row.node_id) ?? { total: 0, succeeded: 0, failed: 0, running: 0 };
  }
  return [...rows];
}

/** Closes a run Temporal ended without the workflow recording it; undefined if it is final already. */
export async function closeRun(
  sql: Sql,
  runId: string,
  closed: { status: RunStatus; reason: string },
): Promise<RunRow | undefined> {
  const [updated] = await sql<RunRow[]>`
    UPDATE workflow_runs SET status = ${closed.status}, error = ${sql.json({ message: closed.reason })},
      finished_at = now()
    WHERE id = ${runId} AND status <> ALL(${[...FINAL_RUN_STATUSES]}::text[])
    RETURNING ${sql.unsafe(RUN_COLUMNS)}`;
  return updated;
}

/** The run's status and the id of its latest event (0 when none), read before waiting for more. */
export async function runProgress(sql: Sql, runId: string): Promise<{ status: RunStatus; lastEventId: bigint }> {
  const [{ last }] = await sql<{ last: string }[]>`
    SELECT coalesce(max(id), 0)::text AS last FROM run_events WHERE run_id = ${runId}`;
  const [{ status }] = await sql<{ status: RunStatus }[]>`SELECT status FROM workflow_runs WHERE id = ${runId}`;
  return { status, lastEventId: BigInt(last) };
}

export async function runSnapshot(sql: Sql, runId: string): Promise<WorkflowSnapshot> {
  const [{ snapshot }] = await sql<{ snapshot: WorkflowSnapshot }[]>`
    SELECT snapshot FROM workflow_runs WHERE id = ${runId}`;
  return snapshot;
}

/** Each node's latest successful (or reused) output in the run, by node id. */
export async function succeededOutputs(sql: Sql, runId: string): Promise<{ node_id: string; output: unknown }[]> {
  const rows = await sql<{ node_id: string; output: unknown }[]>`
    SELECT DISTINCT ON (node_id) node_id, output FROM node_executions
    WHERE run_id = ${runId} AND status IN ('succeeded', 'reused') ORDER BY node_id, attempt DESC`;
  return [...rows];
}

/** Drops a run whose workflow Temporal refused to start (the Idempotency-Key goes with it). */
export async function deleteUnlaunchedRun(sql: Sql, runId: string): Promise<void> {
  await sql`DELETE FROM workflow_runs WHERE id = ${runId} AND temporal_run_id IS NULL`;
}

/** Records Temporal's run id once the run's workflow start is confirmed. */
export async function recordTemporalRunId(sql: Sql, runId: string, temporalRunId: string): Promise<void> {
  await sql`UPDATE workflow_runs SET temporal_run_id = ${temporalRunId}
    WHERE id = ${runId} AND temporal_run_id IS NULL`;
}

/** A pending run whose workflow start Temporal never confirmed (api/runs/orphans.ts). */
export interface UnlaunchedRunRow {
  id: string;
  workspace_id: string;
  input: Record<string, unknown>;
  snapshot: WorkflowSnapshot;
  start_reuse: Record<string, unknown> | null;
  /** Older than the bound after which the sweeper stops trying and fails it. */
  give_up: boolean;
}

/** Unlaunched runs older than `afterMs`, oldest first; scheduled runs are their schedule workflow's to start. */
export async function unlaunchedRuns(
  sql: Sql,
  bounds: { afterMs: number; failAfterMs: number; limit: number },
): Promise<UnlaunchedRunRow[]> {
  const rows = await sql<UnlaunchedRunRow[]>`
    SELECT id, workspace_id, input, snapshot, start_reuse,
      created_at < now() - ${bounds.failAfterMs} * interval '1 millisecond' AS give_up
    FROM workflow_runs
    WHERE status = 'pending' AND temporal_run_id IS NULL AND trigger NOT IN ${sql(STARTED_BY_A_WORKFLOW)}
      AND created_at < now() - ${bounds.afterMs} * interval '1 millisecond'
    ORDER BY created_at LIMIT ${bounds.limit}`;
  return [...rows];
}

/** Fails a run that could not be started; false when it was launched (or ended) meanwhile. */
export async function failUnlaunchedRun(sql: Sql, runId: string): Promise<boolean> {
  const closed = await sql`
    UPDATE workflow_runs SET status = 'failed', finished_at = now(),
      error = ${sql.json({ type: "StartLost", message: "the run could not be started in Temporal" })}
    WHERE id = ${runId} AND status = 'pending' AND temporal_run_id IS NULL RETURNING id`;
  return closed.length > 0;
}
