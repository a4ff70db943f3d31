/** Workspace and member handlers: every change in one transaction with its audit row. */
import { deleteSchedulesOf, terminateWorkflows, unfinishedWorkflowsOf } from "../engine-cleanup.ts";
import type { AppRouteHandler } from "../openapi.ts";
import { ApiError, notFound } from "../errors.ts";
import { audit, transaction } from "./audit.ts";
import type { Role } from "./roles.ts";
import type * as routes from "./workspaces.routes.ts";
import * as store from "./store.ts";

export const list: AppRouteHandler<typeof routes.listWorkspacesRoute> = async (c) => {
  const { sql } = c.get("services");
  const page = c.req.valid("query");
  const actor = c.get("actor");
  if (actor.type === "api_key") {
    const ws = await store.getWorkspace(sql, actor.workspaceId, actor.role);
    const items = ws && page.offset === 0 ? [ws] : [];
    return c.json({ items, total: ws ? 1 : 0, ...page }, 200);
  }
  const { items, total } = await store.listWorkspacesOf(sql, actor.id, page);
  return c.json({ items, total, ...page }, 200);
};

export const create: AppRouteHandler<typeof routes.createWorkspaceRoute> = async (c) => {
  const { name } = c.req.valid("json");
  const ws = await transaction(c, async (tx) => {
    const ws = await store.insertWorkspace(tx, name, c.get("user").id);
    await audit(tx, c, {
      workspaceId: ws.id,
      action: "workspace.created",
      resource: { type: "workspace", id: ws.id },
      details: { name },
    });
    return ws;
  });
  return c.json(ws, 201);
};

export const get: AppRouteHandler<typeof routes.getWorkspaceRoute> = async (c) => {
  const { id, role } = c.get("workspace");
  const ws = await store.getWorkspace(c.get("services").sql, id, role);
  if (!ws) throw notFound("workspace");
  return c.json(ws, 200);
};

export const update: AppRouteHandler<typeof routes.updateWorkspaceRoute> = async (c) => {
  const { id, role } = c.get("workspace");
  const { name } = c.req.valid("json");
  const ws = await transaction(c, async (tx) => {
    const ws = await store.renameWorkspace(tx, id, name, role);
    if (ws) await audit(tx, c, { action: "workspace.updated", resource: { type: "workspace", id }, details: { name } });
    return ws;
  });
  if (!ws) throw notFound("workspace");
  return c.json(ws, 200);
};

export const remove: AppRouteHandler<typeof routes.deleteWorkspaceRoute> = async (c) => {
  const services = c.get("services");
  const { id, role } = c.get("workspace");
  const ws = await store.getWorkspace(services.sql, id, role);
  if (!ws) throw notFound("workspace");
  if (ws.personal) throw new ApiError("CONFLICT", "a personal workspace is deleted only with its account");
  const scope = { workspaceId: id };
  await deleteSchedulesOf(services, c.get("logger"), scope, "workspace");
  const workflowIds = await unfinishedWorkflowsOf(services, scope);
  await transaction(c, async (tx) => {
    await audit(tx, c, {
      action: "workspace.deleted",
      resource: { type: "workspace", id },
      details: { name: ws.name },
    });
    await tx`DELETE FROM workspaces WHERE id = ${id}`;
  });
  await terminateWorkflows(
    services,
    c.get("logger"),
    workflowIds,
    "the workspace this workflow belonged to was deleted",
  );
  return c.body(null, 204);
};

export const listMembers: AppRouteHandler<typeof routes.listMembersRoute> = async (c) => {
  return c.json({ items: await store.listMembers(c.get("services").sql, c.get("workspace").id) }, 200);
};

/** Only an owner grants, takes or removes `owner`. */
function checkOwnerChange(callerRole: Role, ...roles: Role[]) {
  if (roles.includes("owner") && callerRole !== "owner") {
    throw new ApiError("FORBIDDEN", "only an owner can grant, take or remove the owner role");
  }
}

export const addMember: AppRouteHandler<typeof routes.addMemberRoute> = async (c) => {
  const { sql } = c.get("services");
  const { id, role: callerRole } = c.get("workspace");
  const body = c.req.valid("json");
  checkOwnerChange(callerRole, body.role);
  const user = await store.findUserByEmail(sql, body.email);
  if (!user) throw new ApiError("NOT_FOUND", "no user with this email");
  const member = await transaction(c, async (tx) => {
    const member = await store.insertMember(tx, id, user, body.role);
    if (member) {
      await audit(tx, c, {
        action: "member.added",
        resource: { type: "user", id: user.id },
        details: { email: user.email, role: body.role },
      });
    }
    return member;
  });
  if (!member) throw new ApiError("CONFLICT", "this user is already a member of the workspace");
  return c.json(member, 201);
};

export const updateMember: AppRouteHandler<typeof routes.updateMemberRoute> = async (c) => {
  const { id, role: callerRole } = c.get("workspace");
  const { user_id } = c.req.valid("param");
  const { role } = c.req.valid("json");
  const member = await transaction(c, async (tx) => {
    await store.lockMembers(tx, id);
    const member = await store.getMember(tx, id, user_id);
    if (!member) throw notFound("member");
    checkOwnerChange(callerRole, member.role, role);
    if (member.role === "owner" && role !== "owner" && await store.countOwners(tx, id) === 1) {
      throw new ApiError("CONFLICT", "the workspace must keep at least one owner");
    }
    await store.setMemberRole(tx, id, user_id, role);
    await audit(tx, c, {
      action: "member.role_changed",
      resource: { type: "user", id: user_id },
      details: { email: member.email, from: member.role, to: role },
    });
    return { ...member, role };
  });
  return c.json(member, 200);
};

export const removeMember: AppRouteHandler<typeof routes.removeMemberRoute> = async (c) => {
  const { id, role: callerRole } = c.get("workspace");
  const { user_id } = c.req.valid("param");
  await transaction(c, async (tx) => {
    await store.lockMembers(tx, id);
    const member = await store.getMember(tx, id, user_id);
    if (!member) throw notFound("member");
    checkOwnerChange(callerRole, member.role);
    if (member.role === "owner" && await store.countOwners(tx, id) === 1) {
      throw new ApiError("CONFLICT", "the workspace must keep at least one owner");
    }
    await store.deleteMember(tx, id, user_id);
    await audit(tx, c, {
      action: "member.removed",
      resource: { type: "user", id: user_id },
      details: { email: member.email, role: member.role },
    });
  });
  return c.body(null, 204);
};
