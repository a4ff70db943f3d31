/** Workflow handlers: CRUD with soft delete, and graph validation. */
import { validateWorkflow } from "../../core/workflow-validation.ts";
import { deleteWorkflowTriggers } from "../triggers/cleanup.ts";
import { notFound } from "../errors.ts";
import { type AppRouteHandler, serializedJson } from "../openapi.ts";
import type * as routes from "./routes.ts";
import {
  getWorkflowDetail,
  insertWorkflow,
  listWorkflows,
  loadGraph,
  softDeleteWorkflow,
  updateWorkflow,
  type WorkflowDetailRow,
} from "./store.ts";

export const list: AppRouteHandler<typeof routes.listWorkflowsRoute> = async (c) => {
  const { limit, offset } = c.req.valid("query");
  const { items, total } = await listWorkflows(c.get("services").sql, c.get("user").id, { limit, offset });
  return c.json({ items, total, limit, offset }, 200);
};

export const create: AppRouteHandler<typeof routes.createWorkflowRoute> = async (c) => {
  const row = await insertWorkflow(c.get("services").sql, c.get("user").id, c.req.valid("json"));
  return c.json(row, 201);
};

export const get: AppRouteHandler<typeof routes.getWorkflowRoute> = async (c) => {
  const { sql, workflowCache } = c.get("services");
  const { id } = c.req.valid("param");
  const owner = c.get("user").id;
  const cached = workflowCache?.get(id);
  if (cached) {
    if (cached.ownerId !== owner) throw notFound("workflow");
    return serializedJson<WorkflowDetailRow>(c, cached.json);
  }
  const readStarted = workflowCache?.readStarted() ?? 0;
  const row = await getWorkflowDetail(sql, id, owner);
  if (!row) throw notFound("workflow");
  const json = JSON.stringify(row);
  workflowCache?.set(id, owner, json, readStarted);
  return serializedJson<WorkflowDetailRow>(c, json);
};

export const update: AppRouteHandler<typeof routes.updateWorkflowRoute> = async (c) => {
  const { sql, workflowCache } = c.get("services");
  const { id } = c.get("workflow");
  const row = await updateWorkflow(sql, id, c.req.valid("json"));
  workflowCache?.invalidate(id);
  return c.json(row, 200);
};

export const remove: AppRouteHandler<typeof routes.deleteWorkflowRoute> = async (c) => {
  const services = c.get("services");
  const { id } = c.get("workflow");
  await deleteWorkflowTriggers(services, c.get("logger"), id);
  await softDeleteWorkflow(services.sql, id);
  services.workflowCache?.invalidate(id);
  return c.body(null, 204);
};

export const validate: AppRouteHandler<typeof routes.validateWorkflowRoute> = async (c) => {
  const { nodes, edges } = await loadGraph(c.get("services").sql, c.get("workflow").id);
  return c.json(validateWorkflow(nodes, edges), 200);
};
