/**
 * TEMPORAL_UI_PROXY_URL (scripts/run.sh's dev UI, or the Helm chart's temporalUi): the Temporal UI served under the
 * API's own origin at /temporal/, so the UI's codec calls to /api/codec are same-origin and carry the codec session
 * cookie with no UI setting. Only a browser holding a valid session (GET /api/codec/session) gets through, and only
 * to read the runs of its workspaces: the UI's API calls are read-only (no terminate, signal, reset or batch: 403),
 * a workflow list is narrowed to the `WeftOwnerId` (a run's workspace) of the caller's workspaces, a workflow is
 * opened only when it is a run of one of them (others: 404), and every other server call (schedules, batches, …)
 * is refused.
 */
import { WORKFLOW_ID_PREFIX } from "../core/contract.ts";
import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { proxy } from "hono/proxy";
import { CODEC_SESSION_COOKIE } from "./auth/middleware.ts";
import type { TokenService } from "./auth/tokens.ts";
import type { AppEnv } from "./env.ts";
import { ApiError, notFound } from "./errors.ts";

export const TEMPORAL_UI_PATH = "/temporal";

/** The UI's own server API under the proxy: what a signed-in tenant may read of it. */
const UI_API = /^\/temporal\/api\/v1\/(.*)$/;
/**
 * Calls that carry no tenant data: the UI's settings, the cluster and namespace descriptions, and Weft's shared task
 * queues (their pollers are Weft's workers).
 */
const HARMLESS =
  /^(settings|cluster-info|cluster|system-info|namespaces|namespaces\/[^/]+|me|namespaces\/[^/]+\/task-queues\/[^/]+|namespaces\/[^/]+\/worker-count)$/;
const LIST = /^namespaces\/[^/]+\/(workflows|workflows\/count|workflow-count|search-attributes)$/;
const ONE_WORKFLOW = /^namespaces\/[^/]+\/workflows\/([^/]+)(\/.*)?$/;
const RUN_WORKFLOW_ID = new RegExp(`^${WORKFLOW_ID_PREFIX.run}([0-9a-f-]{36})$`, "i");

/** Whether a visibility query is one self-contained expression: quotes closed, parentheses balanced in order. */
function selfContained(query: string): boolean {
  let depth = 0;
  let quote = "";
  for (let i = 0; i < query.length; i++) {
    const ch = query[i];
    if (quote) {
      if (ch === "\\") i++;
      else if (ch === quote) quote = "";
    } else if (ch === '"' || ch === "'" || ch === "`") quote = ch;
    else if (ch === "(") depth++;
    else if (ch === ")" && --depth < 0) return false;
  }
  return depth === 0 && !quote;
}

/** A trailing `GROUP BY …` / `ORDER BY …` (the UI's counts use one) stays outside the narrowed filter. */
const TRAILING_CLAUSE = /\s+((?:GROUP|ORDER)\s+BY\s+[\w`., ]+)$/i;

/**
 * `query` narrowed to the caller's runs: their own filter, which must be self-contained (so nothing in it can
 * escape the parentheses), AND a `WeftOwnerId` (the run's workspace) of a workspace the user is a member of.
 * Workspace ids are UUIDs read from the database: nothing of the caller's goes into the quotes.
 */
function ownQuery(query: string | null, workspaceIds: string[]) {
  const own = `WeftOwnerId IN (${workspaceIds.map((id) => `"${id}"`).join(", ")})`;
  const text = (query ?? "").trim();
  const clause = TRAILING_CLAUSE.exec(text);
  const filter = clause ? text.slice(0, clause.index).trim() : text;
  if (!selfContained(filter)) {
    throw new ApiError("VALIDATION_ERROR", "the workflow query is not one self-contained filter", [
      { field: "query", location: "query", message: "unbalanced quotes or parentheses" },
    ]);
  }
  const narrowed = filter ? `(${filter}) AND ${own}` : own;
  return clause ? `${narrowed} ${clause[1]}` : narrowed;
}

export function temporalUiProxyRoutes(upstream: string, tokens: TokenService) {
  const app = new Hono<AppEnv>();
  const base = upstream.replace(/\/$/, "");
  app.all(`${TEMPORAL_UI_PATH}/*`, async (c) => {
    const token = getCookie(c, CODEC_SESSION_COOKIE);
    let userId: string;
    try {
      if (!token) throw new Error("no session");
      userId = (await tokens.verify(token)).sub;
    } catch {
      throw new ApiError(
        "UNAUTHORIZED",
        "sign in first: open /api/codec/session?token=<access token>&next=/temporal/ in this browser",
      );
    }
    const url = new URL(c.req.url);
    const api = UI_API.exec(url.pathname);
    if (api) {
      if (c.req.method !== "GET" && c.req.method !== "HEAD") {
        throw new ApiError(
          "FORBIDDEN",
          "the Temporal UI is read-only through Weft: use Weft's API to cancel or approve",
        );
      }
      let rest: string;
      try {
        rest = decodeURIComponent(api[1]);
      } catch {
        throw notFound("resource");
      }
      const one = ONE_WORKFLOW.exec(rest);
      if (LIST.test(rest)) {
        const { sql } = c.get("services");
        const memberships = await sql`SELECT workspace_id FROM workspace_members WHERE user_id = ${userId}`;
        url.searchParams.set(
          "query",
          ownQuery(url.searchParams.get("query"), memberships.map((m) => m.workspace_id as string)),
        );
      } else if (one) {
        const runId = RUN_WORKFLOW_ID.exec(one[1])?.[1];
        const { sql } = c.get("services");
        const [owned] = runId
          ? await sql`SELECT 1 FROM workflow_runs r JOIN workspace_members m ON m.workspace_id = r.workspace_id
              WHERE r.id = ${runId} AND m.user_id = ${userId}`
          : [];
        if (!owned) throw notFound("workflow");
      } else if (!HARMLESS.test(rest)) {
        throw notFound("resource");
      }
    }
    const headers = new Headers(c.req.raw.headers);
    // The session and the bearer token are Weft's; the UI has no use for them.
    headers.delete("authorization");
    headers.delete("host");
    return await proxy(`${base}${url.pathname}${url.search}`, { ...c.req, headers, redirect: "manual" });
  });
  return app;
}
