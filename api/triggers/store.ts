/** The workflow_hooks and workflow_schedules tables' SQL as the API uses it. */
import { jsonValue, type Sql } from "../../db/client.ts";
import type { WorkflowRow } from "../workflows/store.ts";

const SCHEDULE_COLUMNS = "id, workflow_id, cron, timezone, input, paused, created_at, temporal_schedule_id";

export interface ScheduleRow {
  id: string;
  workflow_id: string;
  cron: string;
  timezone: string;
  input: Record<string, unknown>;
  paused: boolean;
  created_at: string;
  temporal_schedule_id: string;
}

export interface NewSchedule {
  id: string;
  workflowId: string;
  workspaceId: string;
  /** The person who made it; null for an API key. */
  createdBy: string | null;
  cron: string;
  timezone: string;
  input: Record<string, unknown>;
  paused: boolean;
  temporalScheduleId: string;
}

/** The workflow an enabled hook token starts, with its workspace; every workflow column, as a snapshot pins them. */
export async function hookWorkflow(sql: Sql, tokenHash: string) {
  const [row] = await sql<(WorkflowRow & { workspace_id: string; owner_id: string | null })[]>`
    SELECT w.* FROM workflow_hooks h JOIN workflows w ON w.id = h.workflow_id
    WHERE h.token_hash = ${tokenHash} AND h.enabled AND w.deleted_at IS NULL`;
  return row;
}

/** Sets the workflow's hook token (enabling it); returns when it was made. */
export async function upsertHook(sql: Sql, workflowId: string, tokenHash: string): Promise<string> {
  const [row] = await sql<{ created_at: string }[]>`
    INSERT INTO workflow_hooks (workflow_id, token_hash) VALUES (${workflowId}, ${tokenHash})
    ON CONFLICT (workflow_id) DO UPDATE SET token_hash = excluded.token_hash, enabled = true, created_at = now()
    RETURNING created_at`;
  return row.created_at;
}

export async function getHook(sql: Sql, workflowId: string) {
  const [row] = await sql<{ enabled: boolean; created_at: string }[]>`
    SELECT enabled, created_at FROM workflow_hooks WHERE workflow_id = ${workflowId}`;
  return row;
}

export async function disableHook(sql: Sql, workflowId: string): Promise<void> {
  await sql`UPDATE workflow_hooks SET enabled = false, token_hash = NULL WHERE workflow_id = ${workflowId}`;
}

export async function deleteHook(sql: Sql, workflowId: string): Promise<void> {
  await sql`DELETE FROM workflow_hooks WHERE workflow_id = ${workflowId}`;
}

export async function listSchedules(sql: Sql, workflowId: string): Promise<ScheduleRow[]> {
  const rows = await sql<ScheduleRow[]>`SELECT ${sql.unsafe(SCHEDULE_COLUMNS)} FROM workflow_schedules
    WHERE workflow_id = ${workflowId} ORDER BY created_at, id`;
  return [...rows];
}

export async function insertSchedule(sql: Sql, s: NewSchedule): Promise<ScheduleRow> {
  const [row] = await sql<ScheduleRow[]>`
    INSERT INTO workflow_schedules (id, workflow_id, workspace_id, owner_id, cron, timezone, input, paused,
                                    temporal_schedule_id)
    VALUES (${s.id}, ${s.workflowId}, ${s.workspaceId}, ${s.createdBy}, ${s.cron}, ${s.timezone}, ${
    sql.json(jsonValue(s.input))
  },
            ${s.paused}, ${s.temporalScheduleId})
    RETURNING ${sql.unsafe(SCHEDULE_COLUMNS)}`;
  return row;
}

/** The schedule's Temporal id, or undefined when the workflow has no such schedule. */
export async function scheduleTemporalId(sql: Sql, workflowId: string, scheduleId: string) {
  const [row] = await sql<{ temporal_schedule_id: string }[]>`SELECT temporal_schedule_id FROM workflow_schedules
    WHERE id = ${scheduleId} AND workflow_id = ${workflowId}`;
  return row?.temporal_schedule_id;
}

export async function workflowScheduleIds(sql: Sql, workflowId: string) {
  return [
    ...await sql<{ id: string; temporal_schedule_id: string }[]>`SELECT id, temporal_schedule_id
      FROM workflow_schedules WHERE workflow_id = ${workflowId}`,
  ];
}

export async function deleteSchedule(sql: Sql, scheduleId: string): Promise<void> {
  await sql`DELETE FROM workflow_schedules WHERE id = ${scheduleId}`;
}
