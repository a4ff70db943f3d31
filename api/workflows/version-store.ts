/** The workflow_versions table as the API reads it: versions runs executed, with how many runs each had. */
import type { Sql } from "../../db/client.ts";
import type { WorkflowSnapshot } from "../../core/snapshot.ts";

export interface VersionRow {
  version: number;
  hash: string;
  created_at: string;
  run_count: number;
}

export async function listVersions(sql: Sql, workflowId: string): Promise<VersionRow[]> {
  const rows = await sql<VersionRow[]>`
    SELECT v.version, v.hash, v.created_at,
      (SELECT count(*)::int FROM workflow_runs r WHERE r.workflow_id = v.workflow_id AND r.workflow_version = v.version) AS run_count
    FROM workflow_versions v WHERE v.workflow_id = ${workflowId} ORDER BY v.version DESC`;
  return [...rows];
}

export async function getVersion(
  sql: Sql,
  workflowId: string,
  version: number,
): Promise<(VersionRow & { snapshot: WorkflowSnapshot }) | undefined> {
  const [row] = await sql<(VersionRow & { snapshot: WorkflowSnapshot })[]>`
    SELECT v.version, v.hash, v.created_at, v.snapshot,
      (SELECT count(*)::int FROM workflow_runs r WHERE r.workflow_id = v.workflow_id AND r.workflow_version = v.version) AS run_count
    FROM workflow_versions v WHERE v.workflow_id = ${workflowId} AND v.version = ${version}`;
  return row;
}
