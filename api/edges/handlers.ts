/** Edge handlers: both ends must be nodes of the same workflow; no self-loops, no duplicates. */
import { checkExpression } from "../../core/template.ts";
import { conditionSecretProblem } from "../../core/secret-placement.ts";
import { ApiError, notFound } from "../errors.ts";
import type { AppRouteHandler } from "../openapi.ts";
import { bumpVersion } from "../workflows/store.ts";
import { audit, audited } from "../workspaces/audit.ts";
import type * as routes from "./routes.ts";
import { deleteEdge, existingNodeIds, getEdge, insertEdge, listEdges } from "./store.ts";

export const list: AppRouteHandler<typeof routes.listEdgesRoute> = async (c) => {
  return c.json({ items: await listEdges(c.get("services").sql, c.get("workflow").id) }, 200);
};

export const create: AppRouteHandler<typeof routes.createEdgeRoute> = async (c) => {
  const services = c.get("services");
  const { sql } = services;
  const { id } = c.get("workflow");
  const body = c.req.valid("json");
  if (body.source_node_id === body.target_node_id) {
    throw new ApiError("VALIDATION_ERROR", "an edge cannot connect a node to itself", [
      { field: "target_node_id", location: "body", message: "equals source_node_id" },
    ]);
  }
  const found = await existingNodeIds(sql, id, [body.source_node_id, body.target_node_id]);
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
  const row = await audited(c, async (tx) => {
    const row = await insertEdge(tx, id, body);
    if (!row) throw new ApiError("CONFLICT", "these two nodes are already connected");
    await bumpVersion(services, id, tx);
    await audit(tx, c, {
      action: "edge.created",
      resource: { type: "edge", id: row.id },
      details: { workflow_id: id, source_node_id: body.source_node_id, target_node_id: body.target_node_id },
    });
    return row;
  });
  return c.json(row, 201);
};

export const get: AppRouteHandler<typeof routes.getEdgeRoute> = async (c) => {
  const row = await getEdge(c.get("services").sql, c.get("workflow").id, c.req.valid("param").edge_id);
  if (!row) throw notFound("edge");
  return c.json(row, 200);
};

export const remove: AppRouteHandler<typeof routes.deleteEdgeRoute> = async (c) => {
  const services = c.get("services");
  const { id } = c.get("workflow");
  const { edge_id } = c.req.valid("param");
  await audited(c, async (tx) => {
    if (!(await deleteEdge(tx, id, edge_id))) throw notFound("edge");
    await bumpVersion(services, id, tx);
    await audit(tx, c, {
      action: "edge.deleted",
      resource: { type: "edge", id: edge_id },
      details: { workflow_id: id },
    });
  });
  return c.body(null, 204);
};
