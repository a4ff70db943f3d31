/**
 * Loads the caller's workflow named by /api/workflows/{id}/… once, for every handler under it (`c.get("workflow")`):
 * an unknown id, another workspace's or a deleted workflow is a 404, as is an id that is not a UUID.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env.ts";
import { ApiError } from "../errors.ts";
import { uuid } from "../openapi.ts";
import { getOwnedWorkflow } from "./store.ts";

/**
 * Paths under a workflow that do not need it: a run keeps its own workspace and stays readable after its workflow is
 * deleted (api/runs/store.ts), and reading the workflow itself goes through the read cache (handlers.ts).
 */
const RUN_SCOPED = /^\/api\/workflows\/[^/]+\/runs\/[^/]+/;
const isCachedRead = (method: string, path: string) =>
  (method === "GET" || method === "HEAD") && /^\/api\/workflows\/[^/]+\/?$/.test(path);

export function ownedWorkflow(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const path = c.req.path;
    // No workspace: no route of this method matched (workspaceAccess passed it on), so the app's 404 answers.
    const workspace = c.get("workspace");
    if (!workspace || RUN_SCOPED.test(path) || isCachedRead(c.req.method, path)) return await next();
    const id = uuid.safeParse(c.req.param("id"));
    // As the router's hook answers a malformed path id.
    if (!id.success) throw new ApiError("NOT_FOUND", "resource not found");
    c.set("workflow", await getOwnedWorkflow(c.get("services").sql, id.data, workspace.id));
    await next();
  };
}
