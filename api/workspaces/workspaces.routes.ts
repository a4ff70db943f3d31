/** Workspace and member schemas and routes (issue 12's contract: these paths and shapes do not change). */
import { createRoute, z } from "@hono/zod-openapi";
import {
  bearerSecurity,
  errorResponses,
  ErrorSchema,
  jsonBody,
  jsonResponse,
  PaginationQuery,
  uuid,
} from "../openapi.ts";
import { ROLES } from "./roles.ts";

export const RoleSchema = z.enum(ROLES).openapi("Role");

export const WorkspaceSchema = z.object({
  id: z.string().uuid(),
  name: z.string(),
  role: RoleSchema,
  personal: z.boolean(),
}).openapi("Workspace");

export const MemberSchema = z.object({
  user_id: z.string().uuid(),
  email: z.string(),
  role: RoleSchema,
}).openapi("Member");

const name = z.string().trim().min(1).max(200);
export const WorkspaceBody = z.object({ name }).strict().openapi("WorkspaceRequest");
export const AddMemberBody = z.object({ email: z.string().min(1).max(254), role: RoleSchema }).strict()
  .openapi("AddMemberRequest");
export const MemberRoleBody = z.object({ role: RoleSchema }).strict().openapi("MemberRoleRequest");

export const WorkspaceParams = z.object({ id: uuid.openapi({ param: { name: "id", in: "path" } }) });
export const MemberParams = WorkspaceParams.extend({
  user_id: uuid.openapi({ param: { name: "user_id", in: "path" } }),
});

const tags = ["workspaces"];
const security = bearerSecurity;
const error = (description: string) => ({ description, content: { "application/json": { schema: ErrorSchema } } });
const forbidden = { 403: error("FORBIDDEN: the caller's role in the workspace does not allow this") };
const conflict = (description: string) => ({ 409: error(description) });

export const listWorkspacesRoute = createRoute({
  method: "get",
  path: "/api/workspaces",
  tags,
  security,
  summary: "The workspaces you are a member of, with your role (an API key: its own workspace)",
  request: { query: PaginationQuery },
  responses: {
    200: jsonResponse(
      "Workspaces",
      z.object({
        items: z.array(WorkspaceSchema),
        total: z.number().int(),
        limit: z.number().int(),
        offset: z.number().int(),
      }),
    ),
    ...errorResponses,
  },
});

export const createWorkspaceRoute = createRoute({
  method: "post",
  path: "/api/workspaces",
  tags,
  security,
  summary: "Create a team workspace; you become its owner",
  request: jsonBody(WorkspaceBody),
  responses: { 201: jsonResponse("The workspace", WorkspaceSchema), ...errorResponses, ...forbidden },
});

export const getWorkspaceRoute = createRoute({
  method: "get",
  path: "/api/workspaces/{id}",
  tags,
  security,
  summary: "A workspace you are a member of",
  request: { params: WorkspaceParams },
  responses: { 200: jsonResponse("The workspace", WorkspaceSchema), ...errorResponses },
});

export const updateWorkspaceRoute = createRoute({
  method: "patch",
  path: "/api/workspaces/{id}",
  tags,
  security,
  summary: "Rename a workspace (owner)",
  request: { params: WorkspaceParams, ...jsonBody(WorkspaceBody) },
  responses: { 200: jsonResponse("The workspace", WorkspaceSchema), ...errorResponses, ...forbidden },
});

export const deleteWorkspaceRoute = createRoute({
  method: "delete",
  path: "/api/workspaces/{id}",
  tags,
  security,
  summary: "Delete a team workspace and everything in it (owner; a personal workspace goes only with its account)",
  request: { params: WorkspaceParams },
  responses: {
    204: { description: "Deleted; its audit log is kept" },
    ...errorResponses,
    ...forbidden,
    ...conflict("The personal workspace cannot be deleted"),
    503: error("The workflow engine is unavailable; nothing was deleted"),
  },
});

export const listMembersRoute = createRoute({
  method: "get",
  path: "/api/workspaces/{id}/members",
  tags,
  security,
  summary: "The workspace's members and their roles",
  request: { params: WorkspaceParams },
  responses: { 200: jsonResponse("Members", z.object({ items: z.array(MemberSchema) })), ...errorResponses },
});

export const addMemberRoute = createRoute({
  method: "post",
  path: "/api/workspaces/{id}/members",
  tags,
  security,
  summary: "Add an existing user by email (admin; only an owner grants owner)",
  request: { params: WorkspaceParams, ...jsonBody(AddMemberBody) },
  responses: {
    201: jsonResponse("The member", MemberSchema),
    ...errorResponses,
    ...forbidden,
    ...conflict("Already a member"),
  },
});

export const updateMemberRoute = createRoute({
  method: "patch",
  path: "/api/workspaces/{id}/members/{user_id}",
  tags,
  security,
  summary: "Change a member's role (admin; only an owner grants or takes owner; the last owner stays)",
  request: { params: MemberParams, ...jsonBody(MemberRoleBody) },
  responses: {
    200: jsonResponse("The member", MemberSchema),
    ...errorResponses,
    ...forbidden,
    ...conflict("The workspace would have no owner"),
  },
});

export const removeMemberRoute = createRoute({
  method: "delete",
  path: "/api/workspaces/{id}/members/{user_id}",
  tags,
  security,
  summary: "Remove a member (admin; only an owner removes an owner; the last owner stays)",
  request: { params: MemberParams },
  responses: {
    204: { description: "Removed" },
    ...errorResponses,
    ...forbidden,
    ...conflict("The workspace would have no owner"),
  },
});
