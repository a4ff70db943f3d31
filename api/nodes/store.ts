/** The nodes table's SQL: a workflow's nodes, by id and by name. */
import { jsonValue, type Sql } from "../../db/client.ts";
import { NODE_COLUMNS, type NodeRow } from "../workflows/store.ts";

export interface NewNode {
  name: string;
  type: string;
  config: Record<string, unknown>;
  position_x: number;
  position_y: number;
}

export async function listNodes(sql: Sql, workflowId: string): Promise<NodeRow[]> {
  const rows = await sql<NodeRow[]>`SELECT ${sql.unsafe(NODE_COLUMNS)} FROM nodes
    WHERE workflow_id = ${workflowId} ORDER BY created_at, id`;
  return [...rows];
}

export async function getNode(sql: Sql, workflowId: string, nodeId: string): Promise<NodeRow | undefined> {
  const [row] = await sql<NodeRow[]>`SELECT ${sql.unsafe(NODE_COLUMNS)} FROM nodes
    WHERE id = ${nodeId} AND workflow_id = ${workflowId}`;
  return row;
}

/** Whether another node of the workflow (than `exceptId`) has this name. */
export async function nodeNameTaken(sql: Sql, workflowId: string, name: string, exceptId?: string) {
  const [row] = await sql`
    SELECT 1 FROM nodes WHERE workflow_id = ${workflowId} AND name = ${name}
    ${exceptId ? sql`AND id <> ${exceptId}` : sql``}`;
  return Boolean(row);
}

/** The bytes of the workflow's node configs, leaving out the one being replaced. */
export async function nodeConfigBytes(sql: Sql, workflowId: string, exceptId?: string): Promise<number> {
  const [others] = await sql<{ bytes: string }[]>`
    SELECT coalesce(sum(octet_length(config::text)), 0)::bigint AS bytes FROM nodes
    WHERE workflow_id = ${workflowId} ${exceptId ? sql`AND id <> ${exceptId}` : sql``}`;
  return Number(others.bytes);
}

export async function insertNode(sql: Sql, workflowId: string, node: NewNode): Promise<NodeRow> {
  const [row] = await sql<NodeRow[]>`
    INSERT INTO nodes (workflow_id, name, type, config, position_x, position_y)
    VALUES (${workflowId}, ${node.name}, ${node.type}, ${sql.json(jsonValue(node.config))},
            ${node.position_x}, ${node.position_y})
    RETURNING ${sql.unsafe(NODE_COLUMNS)}`;
  return row;
}

/** Applies the changed fields (none: the node as it is). */
export async function updateNode(sql: Sql, nodeId: string, changes: Partial<NewNode>): Promise<NodeRow> {
  const values: Record<string, unknown> = { ...changes };
  if (changes.config !== undefined) values.config = sql.json(jsonValue(changes.config));
  const columns = Object.keys(values);
  const [row] = columns.length
    ? await sql<NodeRow[]>`UPDATE nodes SET ${sql(values, columns)}, updated_at = now()
                WHERE id = ${nodeId} RETURNING ${sql.unsafe(NODE_COLUMNS)}`
    : await sql<NodeRow[]>`SELECT ${sql.unsafe(NODE_COLUMNS)} FROM nodes WHERE id = ${nodeId}`;
  return row;
}

/** False when the workflow has no such node. */
export async function deleteNode(sql: Sql, workflowId: string, nodeId: string): Promise<boolean> {
  const rows = await sql`DELETE FROM nodes WHERE id = ${nodeId} AND workflow_id = ${workflowId} RETURNING id`;
  return rows.length > 0;
}
