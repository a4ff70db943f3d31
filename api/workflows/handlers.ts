/** Workflow handlers: CRUD with soft delete, and graph validation. */
import { validateWorkflow } from "../../core/workflow-validation.ts";
import { deleteWorkflowTriggers } from "../triggers/cleanup.ts";
import { ApiError, notFound } from "../errors.ts";
import type { Sql } from "../../db/client.ts";
import { type AppRouteHandler, serializedJson } from "../openapi.ts";
import { audit, audited } from "../workspaces/audit.ts";
import type * as routes from "./routes.ts";
import {
  getWorkflowDetail,
  insertWorkflow,
  listWorkflows,
  loadGraph,
  ownedWorkflowIds,
  softDeleteWorkflow,
  updateWorkflow,
  type WorkflowDetailRow,
} from "./store.ts";

export const list: AppRouteHandler<typeof routes.listWorkflowsRoute> = async (c) => {
  const { limit, offset } = c.req.valid("query");
  const { items, total } = await listWorkflows(c.get("services").sql, c.get("workspace").id, { limit, offset });
  return c.json({ items, total, limit, offset }, 200);
};

/** An error workflow must be another workflow of the same workspace. */
async function checkErrorWorkflow(
  sql: Sql,
  workspaceId: string,
  self: string | null,
  errorWorkflowId?: string | null,
) {
  if (!errorWorkflowId) return;
  const message = errorWorkflowId === self
    ? "a workflow cannot be its own error workflow"
    : (await ownedWorkflowIds(sql, workspaceId, [errorWorkflowId])).has(errorWorkflowId)
    ? null
    : `there is no workflow ${errorWorkflowId} in this workspace to run on errors`;
  if (message) {
    throw new ApiError("VALIDATION_ERROR", message, [{ field: "error_workflow_id", location: "body", message }]);
  }
}

export const create: AppRouteHandler<typeof routes.createWorkflowRoute> = async (c) => {
  const body = c.req.valid("json");
  const actor = c.get("actor");
  await checkErrorWorkflow(c.get("services").sql, c.get("workspace").id, null, body.error_workflow_id);
  const row = await audited(c, async (tx) => {
    const row = await insertWorkflow(tx, c.get("workspace").id, actor.type === "user" ? actor.id : null, body);
    await audit(tx, c, {
      action: "workflow.created",
      resource: { type: "workflow", id: row.id },
      details: { name: body.name },
    });
    return row;
  });
  return c.json(row, 201);
};

export const get: AppRouteHandler<typeof routes.getWorkflowRoute> = async (c) => {
  const { sql, workflowCache } = c.get("services");
  const { id } = c.req.valid("param");
  const workspace = c.get("workspace").id;
  const cached = workflowCache?.get(id);
  if (cached) {
    if (cached.workspaceId !== workspace) throw notFound("workflow");
    return serializedJson<WorkflowDetailRow>(c, cached.json);
  }
  const readStarted = workflowCache?.readStarted() ?? 0;
  const row = await getWorkflowDetail(sql, id, workspace);
  if (!row) throw notFound("workflow");
  const json = JSON.stringify(row);
  workflowCache?.set(id, workspace, json, readStarted);
  return serializedJson<WorkflowDetailRow>(c, json);
};

export const update: AppRouteHandler<typeof routes.updateWorkflowRoute> = async (c) => {
  const { workflowCache } = c.get("services");
  const { id } = c.get("workflow");
  const body = c.req.valid("json");
  await checkErrorWorkflow(c.get("services").sql, c.get("workspace").id, id, body.error_workflow_id);
  const row = await audited(c, async (tx) => {
    const row = await updateWorkflow(tx, id, body);
    await audit(tx, c, {
      action: "workflow.updated",
      resource: { type: "workflow", id },
      details: { changed: Object.keys(body) },
    });
    return row;
  });
  workflowCache?.invalidate(id);
  return c.json(row, 200);
};

export const remove: AppRouteHandler<typeof routes.deleteWorkflowRoute> = async (c) => {
  const services = c.get("services");
  const { id } = c.get("workflow");
  await deleteWorkflowTriggers(services, c.get("logger"), id);
  await audited(c, async (tx) => {
    await softDeleteWorkflow(tx, id);
    await audit(tx, c, { action: "workflow.deleted", resource: { type: "workflow", id }, details: {} });
  });
  services.workflowCache?.invalidate(id);
  return c.body(null, 204);
};

export const validate: AppRouteHandler<typeof routes.validateWorkflowRoute> = async (c) => {
  const { sql } = c.get("services");
  const { nodes, edges } = await loadGraph(sql, c.get("workflow").id);
  return c.json(
    validateWorkflow(nodes, edges, { workflowIds: await ownedWorkflowIds(sql, c.get("workspace").id) }),
    200,
  );
};
