/**
 * The one place access is decided: every /api/ route's entry in the role table (roles.ts), for the workspace the
 * request acts in — the path's on /api/workspaces/{id}/…, else the `Weft-Workspace` header, else the caller's
 * default (a person's personal workspace, whose id is theirs; an API key's own). A workspace the caller is not a
 * member of answers 404, as does any other workspace for an API key; too small a role answers 403.
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { Actor, AppEnv } from "../env.ts";
import { ApiError, notFound } from "../errors.ts";
import { uuid } from "../openapi.ts";
import { atLeast, requirementOf, type Role } from "./roles.ts";

export const WORKSPACE_HEADER = "Weft-Workspace";

function workspaceOf(c: Context<AppEnv>, routePath: string, actor: Actor): string {
  if (routePath.startsWith("/api/workspaces/:id")) {
    const id = uuid.safeParse(c.req.path.split("/")[3]);
    if (!id.success) throw notFound("workspace");
    return id.data;
  }
  const header = c.req.header(WORKSPACE_HEADER);
  if (header !== undefined) {
    const id = uuid.safeParse(header.trim());
    if (!id.success) throw new ApiError("VALIDATION_ERROR", `${WORKSPACE_HEADER} must be a workspace id`);
    return id.data;
  }
  return actor.type === "user" ? actor.id : actor.workspaceId;
}

async function roleIn(c: Context<AppEnv>, workspaceId: string, actor: Actor): Promise<Role | null> {
  if (actor.type === "api_key") return workspaceId === actor.workspaceId ? actor.role : null;
  const { sql, accessCache } = c.get("services");
  return await accessCache.role(sql, workspaceId, actor.id);
}

export function workspaceAccess(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const method = c.req.method === "HEAD" ? "GET" : c.req.method;
    // Only a route of this very method counts (middleware is registered for ALL; a TRACE to a GET path has none).
    const route = matchedRoutes(c).findLast((r) => r.method === method);
    // No route: the app's 404 answers.
    if (!route) return await next();
    const requirement = requirementOf(method, route.path);
    if (requirement === undefined) {
      c.get("logger").error("route missing from the role table", { method: c.req.method, route: route.path });
      throw new ApiError("INTERNAL_ERROR", "internal error");
    }
    if (requirement === "public" || requirement === "any") return await next();
    const actor = c.get("actor");
    if (requirement === "account") {
      if (actor.type !== "user") throw new ApiError("FORBIDDEN", "an API key cannot be used on this route");
      return await next();
    }
    const workspaceId = workspaceOf(c, route.path, actor);
    const role = await roleIn(c, workspaceId, actor);
    if (!role) throw notFound("workspace");
    if (!atLeast(role, requirement)) {
      throw new ApiError("FORBIDDEN", `this needs the ${requirement} role in the workspace; the caller is ${role}`);
    }
    c.set("workspace", { id: workspaceId, role });
    await next();
  };
}
