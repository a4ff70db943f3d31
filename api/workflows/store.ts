/** Workflow queries shared by the workflow, node, edge and run features; ownership is checked here. */
import type { Sql } from "../../db/client.ts";
import type { Services } from "../env.ts";
import { notFound } from "../errors.ts";

export const WORKFLOW_COLUMNS =
  "id, name, description, tags, metadata, max_parallel, on_failure, version, created_at, updated_at";
export const NODE_COLUMNS = "id, workflow_id, name, type, config, position_x, position_y, created_at, updated_at";
export const EDGE_COLUMNS = "id, workflow_id, source_node_id, target_node_id, condition, created_at";

export type Row = Record<string, unknown>;

/** The workflow if it exists, is not deleted and belongs to the user; otherwise a 404. */
export async function getOwnedWorkflow(sql: Sql, id: string, ownerId: string): Promise<Row> {
  const [row] = await sql`
    SELECT ${sql.unsafe(WORKFLOW_COLUMNS)} FROM workflows
    WHERE id = ${id} AND owner_id = ${ownerId} AND deleted_at IS NULL`;
  if (!row) throw notFound("workflow");
  return row;
}

/** Every change to a workflow's graph or settings makes a new version (and drops cached copies). */
export async function bumpVersion(services: Services, id: string): Promise<void> {
  await services.sql`UPDATE workflows SET version = version + 1, updated_at = now() WHERE id = ${id}`;
  services.workflowCache?.invalidate(id);
}

export async function loadGraph(sql: Sql, workflowId: string): Promise<{ nodes: Row[]; edges: Row[] }> {
  const [nodes, edges] = await Promise.all([
    sql`SELECT ${sql.unsafe(NODE_COLUMNS)} FROM nodes WHERE workflow_id = ${workflowId} ORDER BY created_at, id`,
    sql`SELECT ${sql.unsafe(EDGE_COLUMNS)} FROM edges WHERE workflow_id = ${workflowId} ORDER BY created_at, id`,
  ]);
  return { nodes: [...nodes], edges: [...edges] };
}
