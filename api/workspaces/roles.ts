/**
 * Who may call what: the one table of route → required role, as data. `workspaceAccess` (access.ts) enforces it
 * on every request and api/workspaces/role-matrix.test.ts is generated from it, so a route without an entry
 * fails that test (and answers 500 rather than run unchecked).
 */

/** Each role includes the ones before it. */
export const ROLES = ["viewer", "operator", "editor", "admin", "owner"] as const;
export type Role = typeof ROLES[number];

export const roleRank = (role: Role) => ROLES.indexOf(role);
export const atLeast = (role: Role, required: Role) => roleRank(role) >= roleRank(required);

/**
 * `public`: no credential (or its own, as a webhook's token); `account`: a signed-in person, outside any
 * workspace (an API key is refused); `any`: a person or an API key, outside any workspace; a role: a member
 * of the request's workspace with at least that role (an API key in its own workspace with at least it).
 */
export type Requirement = "public" | "account" | "any" | Role;

/** Every route under /api/. */
export const ROUTE_ROLES: Record<string, Requirement> = {
  "POST /api/auth/register": "public",
  "POST /api/auth/login": "public",
  "POST /api/hooks/:token": "public",
  "GET /api/codec/session": "public",
  "GET /api/auth/me": "account",
  "DELETE /api/auth/me": "account",

  "GET /api/workspaces": "any",
  "POST /api/workspaces": "account",
  "GET /api/workspaces/:id": "viewer",
  "PATCH /api/workspaces/:id": "owner",
  "DELETE /api/workspaces/:id": "owner",
  "GET /api/workspaces/:id/members": "viewer",
  "POST /api/workspaces/:id/members": "admin",
  "PATCH /api/workspaces/:id/members/:user_id": "admin",
  "DELETE /api/workspaces/:id/members/:user_id": "admin",
  "GET /api/workspaces/:id/api-keys": "admin",
  "POST /api/workspaces/:id/api-keys": "admin",
  "DELETE /api/workspaces/:id/api-keys/:key_id": "admin",
  "GET /api/workspaces/:id/audit": "admin",

  "GET /api/workflows": "viewer",
  "POST /api/workflows": "editor",
  "GET /api/workflows/:id": "viewer",
  "PUT /api/workflows/:id": "editor",
  "DELETE /api/workflows/:id": "editor",
  "GET /api/workflows/:id/validate": "viewer",
  "GET /api/workflows/:id/versions": "viewer",
  "GET /api/workflows/:id/versions/:version": "viewer",
  "GET /api/workflows/:id/nodes": "viewer",
  "POST /api/workflows/:id/nodes": "editor",
  "GET /api/workflows/:id/nodes/:node_id": "viewer",
  "PUT /api/workflows/:id/nodes/:node_id": "editor",
  "DELETE /api/workflows/:id/nodes/:node_id": "editor",
  "GET /api/workflows/:id/edges": "viewer",
  "POST /api/workflows/:id/edges": "editor",
  "GET /api/workflows/:id/edges/:edge_id": "viewer",
  "DELETE /api/workflows/:id/edges/:edge_id": "editor",
  "POST /api/workflows/:id/execute": "operator",
  "GET /api/workflows/:id/runs": "viewer",
  "GET /api/workflows/:id/runs/:run_id": "viewer",
  "GET /api/workflows/:id/runs/:run_id/events": "viewer",
  "POST /api/workflows/:id/runs/:run_id/retry": "operator",
  "POST /api/workflows/:id/runs/:run_id/cancel": "operator",
  "POST /api/workflows/:id/runs/:run_id/nodes/:node_name/approve": "operator",
  "POST /api/workflows/:id/runs/:run_id/signals/:event": "operator",
  "GET /api/workflows/:id/runs/:run_id/nodes/:node_name/items": "viewer",
  "GET /api/runs": "viewer",
  "GET /api/workflows/:id/hook": "viewer",
  "POST /api/workflows/:id/hook": "editor",
  "DELETE /api/workflows/:id/hook": "editor",
  "GET /api/workflows/:id/schedules": "viewer",
  "POST /api/workflows/:id/schedules": "editor",
  "DELETE /api/workflows/:id/schedules/:schedule_id": "editor",
  "GET /api/secrets": "admin",
  "POST /api/secrets": "admin",
  "PUT /api/secrets/:name": "admin",
  "DELETE /api/secrets/:name": "admin",
  "GET /api/vectors/collections": "viewer",
  "POST /api/vectors/collections": "editor",
  "GET /api/vectors/collections/:id": "viewer",
  "DELETE /api/vectors/collections/:id": "editor",
  "POST /api/vectors/collections/:id/documents": "operator",
  "GET /api/vectors/collections/:id/ingestions/:ingestion_id": "viewer",
  "POST /api/vectors/collections/:id/search": "viewer",
  // The Temporal UI's codec: payloads of the request's workspace.
  "POST /api/codec/encode": "viewer",
  "POST /api/codec/decode": "viewer",
};

/** The entry for a route template as Hono names it (`/api/workflows/:id`); undefined when it has none. */
export const requirementOf = (method: string, path: string): Requirement | undefined =>
  ROUTE_ROLES[`${method} ${path}`];
