/** Node handlers: type and config checked against core's node types before anything is stored. */
import { assertGraphFits } from "./graph-size.ts";
import { isNodeType, KNOWN_NODE_TYPES, parseNodeConfig } from "../../core/node-types.ts";
import { checkNodeExpressions } from "../../core/workflow-validation.ts";
import { ApiError, notFound } from "../errors.ts";
import { createRouter } from "../openapi.ts";
import { bumpVersion, getOwnedWorkflow, NODE_COLUMNS } from "../workflows/store.ts";
import { createNodeRoute, deleteNodeRoute, getNodeRoute, listNodesRoute, updateNodeRoute } from "./routes.ts";
import type { Sql } from "../../db/client.ts";

/** Returns the config as stored (defaults applied) or throws a 400 naming the bad fields. */
function checkNodeConfig(type: string, config: unknown): Record<string, unknown> {
  if (!isNodeType(type)) {
    throw new ApiError(
      "UNKNOWN_NODE_TYPE",
      `unknown node type "${type}"; known types: ${KNOWN_NODE_TYPES.join(", ")}`,
      {
        known_types: KNOWN_NODE_TYPES,
      },
    );
  }
  const parsed = parseNodeConfig(type, config);
  if (!parsed.ok) {
    const fields = parsed.issues.map((i) => i.path).join(", ");
    throw new ApiError(
      "VALIDATION_ERROR",
      `invalid config for ${type}: ${fields}`,
      parsed.issues.map((i) => ({ field: i.path, location: "body", message: i.message })),
    );
  }
  const problems = checkNodeExpressions(type, parsed.config);
  if (problems.length) {
    throw new ApiError(
      "VALIDATION_ERROR",
      `invalid template in ${problems.map((p) => p.path).join(", ")}: ${problems[0].message}`,
      problems.map((p) => ({ field: p.path, location: "body", message: p.message })),
    );
  }
  return parsed.config;
}

async function nameTaken(sql: Sql, workflowId: string, name: string, exceptId?: string) {
  const [row] = await sql`
    SELECT 1 FROM nodes WHERE workflow_id = ${workflowId} AND name = ${name}
    ${exceptId ? sql`AND id <> ${exceptId}` : sql``}`;
  if (row) throw new ApiError("CONFLICT", `a node named "${name}" already exists in this workflow`);
}

export function nodeRoutes() {
  const app = createRouter();

  app.openapi(listNodesRoute, async (c) => {
    const { sql } = c.get("services");
    const { id } = c.req.valid("param");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    const items = await sql`SELECT ${
      sql.unsafe(NODE_COLUMNS)
    } FROM nodes WHERE workflow_id = ${id} ORDER BY created_at, id`;
    return c.json({ items: [...items] } as never, 200);
  });

  app.openapi(createNodeRoute, async (c) => {
    const { sql } = c.get("services");
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    const config = checkNodeConfig(body.type, body.config);
    await nameTaken(sql, id, body.name);
    await assertGraphFits(sql, id, config, c.get("services").config.WEFT_MAX_WORKFLOW_INPUT_BYTES);
    const [row] = await sql`
      INSERT INTO nodes (workflow_id, name, type, config, position_x, position_y)
      VALUES (${id}, ${body.name}, ${body.type}, ${sql.json(config as never)}, ${body.position_x}, ${body.position_y})
      RETURNING ${sql.unsafe(NODE_COLUMNS)}`;
    await bumpVersion(c.get("services"), id);
    return c.json(row as never, 201);
  });

  app.openapi(getNodeRoute, async (c) => {
    const { sql } = c.get("services");
    const { id, node_id } = c.req.valid("param");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    const [row] = await sql`SELECT ${
      sql.unsafe(NODE_COLUMNS)
    } FROM nodes WHERE id = ${node_id} AND workflow_id = ${id}`;
    if (!row) throw notFound("node");
    return c.json(row as never, 200);
  });

  app.openapi(updateNodeRoute, async (c) => {
    const { sql } = c.get("services");
    const { id, node_id } = c.req.valid("param");
    const body = c.req.valid("json");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    const [current] = await sql`SELECT type, config FROM nodes WHERE id = ${node_id} AND workflow_id = ${id}`;
    if (!current) throw notFound("node");
    const changes: Record<string, unknown> = { ...body };
    if (body.type !== undefined || body.config !== undefined) {
      const config = checkNodeConfig(body.type ?? (current.type as string), body.config ?? current.config);
      await assertGraphFits(sql, id, config, c.get("services").config.WEFT_MAX_WORKFLOW_INPUT_BYTES, node_id);
      changes.config = sql.json(config as never);
    }
    if (body.name !== undefined) await nameTaken(sql, id, body.name, node_id);
    const columns = Object.keys(changes);
    const [row] = columns.length
      ? await sql`UPDATE nodes SET ${sql(changes, columns)}, updated_at = now()
                  WHERE id = ${node_id} RETURNING ${sql.unsafe(NODE_COLUMNS)}`
      : await sql`SELECT ${sql.unsafe(NODE_COLUMNS)} FROM nodes WHERE id = ${node_id}`;
    await bumpVersion(c.get("services"), id);
    return c.json(row as never, 200);
  });

  app.openapi(deleteNodeRoute, async (c) => {
    const { sql } = c.get("services");
    const { id, node_id } = c.req.valid("param");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    const rows = await sql`DELETE FROM nodes WHERE id = ${node_id} AND workflow_id = ${id} RETURNING id`;
    if (!rows.length) throw notFound("node");
    await bumpVersion(c.get("services"), id);
    return c.body(null, 204);
  });

  return app;
}
