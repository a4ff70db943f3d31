/** Edge handlers: both ends must be nodes of the same workflow; no self-loops, no duplicates. */
import { checkExpression } from "../../core/template.ts";
import { conditionSecretProblem } from "../../core/secret-placement.ts";
import { ApiError, notFound } from "../errors.ts";
import { createRouter } from "../openapi.ts";
import { bumpVersion, EDGE_COLUMNS, getOwnedWorkflow } from "../workflows/store.ts";
import { createEdgeRoute, deleteEdgeRoute, getEdgeRoute, listEdgesRoute } from "./routes.ts";

export function edgeRoutes() {
  const app = createRouter();

  app.openapi(listEdgesRoute, async (c) => {
    const { sql } = c.get("services");
    const { id } = c.req.valid("param");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    const items = await sql`SELECT ${
      sql.unsafe(EDGE_COLUMNS)
    } FROM edges WHERE workflow_id = ${id} ORDER BY created_at, id`;
    return c.json({ items: [...items] } as never, 200);
  });

  app.openapi(createEdgeRoute, async (c) => {
    const { sql } = c.get("services");
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    if (body.source_node_id === body.target_node_id) {
      throw new ApiError("VALIDATION_ERROR", "an edge cannot connect a node to itself", [
        { field: "target_node_id", location: "body", message: "equals source_node_id" },
      ]);
    }
    const ends = await sql`SELECT id FROM nodes WHERE workflow_id = ${id} AND id IN ${
      sql([body.source_node_id, body.target_node_id])
    }`;
    const found = new Set(ends.map((r) => r.id));
    const missing = (["source_node_id", "target_node_id"] as const).filter((f) => !found.has(body[f]));
    if (missing.length) {
      throw new ApiError(
        "VALIDATION_ERROR",
        `${missing.join(" and ")} must name a node of this workflow`,
        missing.map((f) => ({ field: f, location: "body", message: "not a node of this workflow" })),
      );
    }
    if (body.condition) {
      const problem = checkExpression(body.condition) ?? conditionSecretProblem(body.condition);
      if (problem) {
        throw new ApiError("VALIDATION_ERROR", `invalid condition expression: ${problem}`, [
          { field: "condition", location: "body", message: problem },
        ]);
      }
    }
    const [row] = await sql`
      INSERT INTO edges (workflow_id, source_node_id, target_node_id, condition)
      VALUES (${id}, ${body.source_node_id}, ${body.target_node_id}, ${body.condition ?? null})
      ON CONFLICT (source_node_id, target_node_id) DO NOTHING
      RETURNING ${sql.unsafe(EDGE_COLUMNS)}`;
    if (!row) throw new ApiError("CONFLICT", "these two nodes are already connected");
    await bumpVersion(c.get("services"), id);
    return c.json(row as never, 201);
  });

  app.openapi(getEdgeRoute, async (c) => {
    const { sql } = c.get("services");
    const { id, edge_id } = c.req.valid("param");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    const [row] = await sql`SELECT ${
      sql.unsafe(EDGE_COLUMNS)
    } FROM edges WHERE id = ${edge_id} AND workflow_id = ${id}`;
    if (!row) throw notFound("edge");
    return c.json(row as never, 200);
  });

  app.openapi(deleteEdgeRoute, async (c) => {
    const { sql } = c.get("services");
    const { id, edge_id } = c.req.valid("param");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    const rows = await sql`DELETE FROM edges WHERE id = ${edge_id} AND workflow_id = ${id} RETURNING id`;
    if (!rows.length) throw notFound("edge");
    await bumpVersion(c.get("services"), id);
    return c.body(null, 204);
  });

  return app;
}
