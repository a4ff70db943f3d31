/** Node handlers: every change is checked against core's node types and bumps the workflow's version. */
import { ApiError, notFound } from "../errors.ts";
import type { AppRouteHandler } from "../openapi.ts";
import { bumpVersion } from "../workflows/store.ts";
import { checkChildWorkflows, checkNodeConfig } from "./config.ts";
import { assertGraphFits } from "./graph-size.ts";
import type * as routes from "./routes.ts";
import { deleteNode, getNode, insertNode, listNodes, type NewNode, nodeNameTaken, updateNode } from "./store.ts";
import type { Sql } from "../../db/client.ts";
import { audit, audited } from "../workspaces/audit.ts";

async function assertNameFree(sql: Sql, workflowId: string, name: string, exceptId?: string) {
  if (await nodeNameTaken(sql, workflowId, name, exceptId)) {
    throw new ApiError("CONFLICT", `a node named "${name}" already exists in this workflow`);
  }
}

export const list: AppRouteHandler<typeof routes.listNodesRoute> = async (c) => {
  return c.json({ items: await listNodes(c.get("services").sql, c.get("workflow").id) }, 200);
};

export const create: AppRouteHandler<typeof routes.createNodeRoute> = async (c) => {
  const services = c.get("services");
  const { sql } = services;
  const { id } = c.get("workflow");
  const body = c.req.valid("json");
  const config = checkNodeConfig(body.type, body.config);
  await checkChildWorkflows(sql, c.get("workspace").id, body.type, config);
  await assertNameFree(sql, id, body.name);
  await assertGraphFits(sql, id, config, services.config.WEFT_MAX_WORKFLOW_INPUT_BYTES);
  const row = await audited(c, async (tx) => {
    const row = await insertNode(tx, id, { ...body, config });
    await bumpVersion(services, id, tx);
    await audit(tx, c, {
      action: "node.created",
      resource: { type: "node", id: row.id },
      details: { workflow_id: id, name: body.name, type: body.type },
    });
    return row;
  });
  return c.json(row, 201);
};

export const get: AppRouteHandler<typeof routes.getNodeRoute> = async (c) => {
  const row = await getNode(c.get("services").sql, c.get("workflow").id, c.req.valid("param").node_id);
  if (!row) throw notFound("node");
  return c.json(row, 200);
};

export const update: AppRouteHandler<typeof routes.updateNodeRoute> = async (c) => {
  const services = c.get("services");
  const { sql } = services;
  const { id } = c.get("workflow");
  const { node_id } = c.req.valid("param");
  const body = c.req.valid("json");
  const current = await getNode(sql, id, node_id);
  if (!current) throw notFound("node");
  const changes: Partial<NewNode> = { ...body };
  if (body.type !== undefined || body.config !== undefined) {
    const config = checkNodeConfig(body.type ?? current.type, body.config ?? current.config);
    await checkChildWorkflows(sql, c.get("workspace").id, body.type ?? current.type, config);
    await assertGraphFits(sql, id, config, services.config.WEFT_MAX_WORKFLOW_INPUT_BYTES, node_id);
    changes.config = config;
  }
  if (body.name !== undefined) await assertNameFree(sql, id, body.name, node_id);
  const row = await audited(c, async (tx) => {
    const row = await updateNode(tx, node_id, changes);
    await bumpVersion(services, id, tx);
    await audit(tx, c, {
      action: "node.updated",
      resource: { type: "node", id: node_id },
      details: { workflow_id: id, changed: Object.keys(body) },
    });
    return row;
  });
  return c.json(row, 200);
};

export const remove: AppRouteHandler<typeof routes.deleteNodeRoute> = async (c) => {
  const services = c.get("services");
  const { id } = c.get("workflow");
  const { node_id } = c.req.valid("param");
  await audited(c, async (tx) => {
    if (!(await deleteNode(tx, id, node_id))) throw notFound("node");
    await bumpVersion(services, id, tx);
    await audit(tx, c, {
      action: "node.deleted",
      resource: { type: "node", id: node_id },
      details: { workflow_id: id },
    });
  });
  return c.body(null, 204);
};
