/** The workflows table's SQL and the rows the API reads from it (nodes and edges as part of a workflow's graph). */
import { jsonValue, type Sql } from "../../db/client.ts";
import type { Services } from "../env.ts";
import { notFound } from "../errors.ts";

export const WORKFLOW_COLUMNS =
  "id, name, description, tags, metadata, max_parallel, on_failure, error_workflow_id, version, created_at, updated_at";
export const NODE_COLUMNS = "id, workflow_id, name, type, config, position_x, position_y, created_at, updated_at";
export const EDGE_COLUMNS = "id, workflow_id, source_node_id, target_node_id, condition, created_at";

/** Timestamps come back as ISO strings (db/client.ts). */
export interface WorkflowRow {
  id: string;
  name: string;
  description: string | null;
  tags: string[];
  metadata: Record<string, unknown>;
  max_parallel: number;
  on_failure: "fail_fast" | "continue";
  error_workflow_id: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface NodeRow {
  id: string;
  workflow_id: string;
  name: string;
  type: string;
  config: Record<string, unknown>;
  position_x: number;
  position_y: number;
  created_at: string;
  updated_at: string;
}

export interface EdgeRow {
  id: string;
  workflow_id: string;
  source_node_id: string;
  target_node_id: string;
  condition: string | null;
  created_at: string;
}

export interface WorkflowDetailRow extends WorkflowRow {
  nodes: NodeRow[];
  edges: EdgeRow[];
}

export interface NewWorkflow {
  name: string;
  description?: string | null;
  tags?: string[];
  metadata?: Record<string, unknown>;
  max_parallel?: number;
  on_failure?: "fail_fast" | "continue";
  error_workflow_id?: string | null;
}

/** The workflow if it exists, is not deleted and belongs to the workspace; otherwise a 404. */
export async function getOwnedWorkflow(sql: Sql, id: string, workspaceId: string): Promise<WorkflowRow> {
  const [row] = await sql<WorkflowRow[]>`
    SELECT ${sql.unsafe(WORKFLOW_COLUMNS)} FROM workflows
    WHERE id = ${id} AND workspace_id = ${workspaceId} AND deleted_at IS NULL`;
  if (!row) throw notFound("workflow");
  return row;
}

export async function listWorkflows(sql: Sql, workspaceId: string, page: { limit: number; offset: number }) {
  const [items, [{ total }]] = await Promise.all([
    sql<WorkflowRow[]>`SELECT ${sql.unsafe(WORKFLOW_COLUMNS)} FROM workflows
        WHERE workspace_id = ${workspaceId} AND deleted_at IS NULL
        ORDER BY created_at DESC, id DESC LIMIT ${page.limit} OFFSET ${page.offset}`,
    sql<{ total: number }[]>`SELECT count(*)::int AS total FROM workflows
        WHERE workspace_id = ${workspaceId} AND deleted_at IS NULL`,
  ]);
  return { items: [...items], total };
}

/** `createdBy`: the person who made it (null for an API key). */
export async function insertWorkflow(
  sql: Sql,
  workspaceId: string,
  createdBy: string | null,
  body: NewWorkflow,
): Promise<WorkflowRow> {
  const [row] = await sql<WorkflowRow[]>`
    INSERT INTO workflows (workspace_id, owner_id, name, description, tags, metadata, max_parallel, on_failure,
                           error_workflow_id)
    VALUES (${workspaceId}, ${createdBy}, ${body.name}, ${body.description ?? null}, ${body.tags ?? []},
            ${sql.json(jsonValue(body.metadata ?? {}))}, ${body.max_parallel ?? 16}, ${body.on_failure ?? "fail_fast"},
            ${body.error_workflow_id ?? null})
    RETURNING ${sql.unsafe(WORKFLOW_COLUMNS)}`;
  return row;
}

/** One round trip: the workflow with its nodes and edges aggregated as JSON (the cached read path). */
export async function getWorkflowDetail(
  sql: Sql,
  id: string,
  workspaceId: string,
): Promise<WorkflowDetailRow | undefined> {
  const [row] = await sql<WorkflowDetailRow[]>`
    SELECT ${sql.unsafe(WORKFLOW_COLUMNS.split(", ").map((col) => `w.${col}`).join(", "))},
      coalesce((SELECT json_agg(n ORDER BY n.created_at, n.id) FROM
        (SELECT ${sql.unsafe(NODE_COLUMNS)} FROM nodes WHERE workflow_id = w.id) n), '[]') AS nodes,
      coalesce((SELECT json_agg(e ORDER BY e.created_at, e.id) FROM
        (SELECT ${sql.unsafe(EDGE_COLUMNS)} FROM edges WHERE workflow_id = w.id) e), '[]') AS edges
    FROM workflows w
    WHERE w.id = ${id} AND w.workspace_id = ${workspaceId} AND w.deleted_at IS NULL`;
  return row;
}

/** Applies the changed settings (none: only a new version) and returns the workflow. */
export async function updateWorkflow(sql: Sql, id: string, body: Partial<NewWorkflow>): Promise<WorkflowRow> {
  const changes: Record<string, unknown> = { ...body };
  if (body.metadata) changes.metadata = sql.json(jsonValue(body.metadata));
  const columns = Object.keys(changes);
  const [row] = columns.length
    ? await sql<WorkflowRow[]>`UPDATE workflows SET ${sql(changes, columns)}, version = version + 1, updated_at = now()
                WHERE id = ${id} RETURNING ${sql.unsafe(WORKFLOW_COLUMNS)}`
    : await sql<WorkflowRow[]>`UPDATE workflows SET version = version + 1, updated_at = now()
                WHERE id = ${id} RETURNING ${sql.unsafe(WORKFLOW_COLUMNS)}`;
  return row;
}

export async function softDeleteWorkflow(sql: Sql, id: string): Promise<void> {
  await sql`UPDATE workflows SET deleted_at = now(), updated_at = now() WHERE id = ${id}`;
}

/** Every change to a workflow's graph or settings makes a new version (and drops cached copies). */
export async function bumpVersion(
  services: Pick<Services, "sql" | "workflowCache">,
  id: string,
  tx: Sql = services.sql,
): Promise<void> {
  await tx`UPDATE workflows SET version = version + 1, updated_at = now() WHERE id = ${id}`;
  services.workflowCache?.invalidate(id);
}

export async function loadGraph(sql: Sql, workflowId: string): Promise<{ nodes: NodeRow[]; edges: EdgeRow[] }> {
  const [nodes, edges] = await Promise.all([
    sql<NodeRow[]>`SELECT ${sql.unsafe(NODE_COLUMNS)} FROM nodes
      WHERE workflow_id = ${workflowId} ORDER BY created_at, id`,
    sql<EdgeRow[]>`SELECT ${sql.unsafe(EDGE_COLUMNS)} FROM edges
      WHERE workflow_id = ${workflowId} ORDER BY created_at, id`,
  ]);
  return { nodes: [...nodes], edges: [...edges] };
}

/** Which of these workflow ids belong to the workspace (not deleted): sub-workflows, maps and error workflows. */
export async function ownedWorkflowIds(sql: Sql, workspaceId: string, ids?: string[]): Promise<Set<string>> {
  const rows = await sql`SELECT id FROM workflows WHERE workspace_id = ${workspaceId} AND deleted_at IS NULL
                         ${
    ids ? sql`AND id IN ${sql(ids.length ? ids : ["00000000-0000-0000-0000-000000000000"])}` : sql``
  }`;
  return new Set(rows.map((r) => r.id as string));
}
