/** The edges table's SQL: a workflow's edges, and which of its nodes exist. */
import type { Sql } from "../../db/client.ts";
import { EDGE_COLUMNS, type EdgeRow } from "../workflows/store.ts";

export interface NewEdge {
  source_node_id: string;
  target_node_id: string;
  condition?: string | null;
}

export async function listEdges(sql: Sql, workflowId: string): Promise<EdgeRow[]> {
  const rows = await sql<EdgeRow[]>`SELECT ${sql.unsafe(EDGE_COLUMNS)} FROM edges
    WHERE workflow_id = ${workflowId} ORDER BY created_at, id`;
  return [...rows];
}

export async function getEdge(sql: Sql, workflowId: string, edgeId: string): Promise<EdgeRow | undefined> {
  const [row] = await sql<EdgeRow[]>`SELECT ${sql.unsafe(EDGE_COLUMNS)} FROM edges
    WHERE id = ${edgeId} AND workflow_id = ${workflowId}`;
  return row;
}

/** Which of these node ids are nodes of the workflow. */
export async function existingNodeIds(sql: Sql, workflowId: string, ids: string[]): Promise<Set<string>> {
  const rows = await sql<{ id: string }[]>`SELECT id FROM nodes WHERE workflow_id = ${workflowId} AND id IN ${
    sql(ids)
  }`;
  return new Set(rows.map((r) => r.id));
}

/** The new edge, or undefined when the two nodes are already connected. */
export async function insertEdge(sql: Sql, workflowId: string, edge: NewEdge): Promise<EdgeRow | undefined> {
  const [row] = await sql<EdgeRow[]>`
    INSERT INTO edges (workflow_id, source_node_id, target_node_id, condition)
    VALUES (${workflowId}, ${edge.source_node_id}, ${edge.target_node_id}, ${edge.condition ?? null})
    ON CONFLICT (source_node_id, target_node_id) DO NOTHING
    RETURNING ${sql.unsafe(EDGE_COLUMNS)}`;
  return row;
}

/** False when the workflow has no such edge. */
export async function deleteEdge(sql: Sql, workflowId: string, edgeId: string): Promise<boolean> {
  const rows = await sql`DELETE FROM edges WHERE id = ${edgeId} AND workflow_id = ${workflowId} RETURNING id`;
  return rows.length > 0;
}
