/** Reading the audit log: keyset pages by id (newest first) behind an opaque cursor, or all of it as NDJSON. */
import type { Sql } from "../../db/client.ts";
import type { AppRouteHandler } from "../openapi.ts";
import { ApiError } from "../errors.ts";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env.ts";
import { type AuditEntry, AuditQuery } from "./audit.routes.ts";
import type * as routes from "./audit.routes.ts";

type Filters = Omit<ReturnType<typeof parseQuery>, "limit">;
const EXPORT_BATCH = 500;

const encodeCursor = (id: string) => btoa(`audit:${id}`).replace(/=+$/, "");
function decodeCursor(cursor: string): string {
  let text = "";
  try {
    text = atob(cursor);
  } catch { /* refused below */ }
  const id = /^audit:(\d{1,19})$/.exec(text)?.[1];
  if (!id) throw new ApiError("VALIDATION_ERROR", "cursor is not one this API returned");
  return id;
}

function parseQuery(
  q: {
    action?: string;
    actor_id?: string;
    resource_id?: string;
    since?: string;
    until?: string;
    limit: number;
    cursor?: string;
  },
) {
  return {
    action: q.action,
    actorId: q.actor_id,
    resourceId: q.resource_id,
    since: q.since,
    until: q.until,
    limit: q.limit,
    before: q.cursor === undefined ? undefined : decodeCursor(q.cursor),
  };
}

async function page(sql: Sql, workspaceId: string, f: Filters, limit: number): Promise<AuditEntry[]> {
  const action = f.action?.endsWith(".*")
    ? sql`AND starts_with(action, ${f.action.slice(0, -1)})`
    : f.action
    ? sql`AND action = ${f.action}`
    : sql``;
  const rows = await sql`
    SELECT id, at, actor_type, actor_id, actor_label, action, resource_type, resource_id, request_id, ip, details
    FROM audit_log WHERE workspace_id = ${workspaceId} ${action}
      ${f.actorId ? sql`AND actor_id = ${f.actorId}` : sql``}
      ${f.resourceId ? sql`AND resource_id = ${f.resourceId}` : sql``}
      ${f.since ? sql`AND at >= ${f.since}` : sql``}
      ${f.until ? sql`AND at < ${f.until}` : sql``}
      ${f.before ? sql`AND id < ${f.before}` : sql``}
    ORDER BY id DESC LIMIT ${limit}`;
  return rows.map((r) => ({
    id: String(r.id),
    at: r.at as string,
    actor: {
      type: r.actor_type as AuditEntry["actor"]["type"],
      id: r.actor_id as string | null,
      ...(r.actor_type === "user" ? { email: r.actor_label as string } : { name: r.actor_label as string }),
    },
    action: r.action as string,
    resource: { type: r.resource_type as string, id: r.resource_id as string | null },
    request_id: r.request_id as string | null,
    ip: r.ip as string | null,
    details: r.details as Record<string, unknown>,
  }));
}

/** Every matching entry from the cursor on, as JSON lines, read in batches so memory stays flat. */
function ndjson(sql: Sql, workspaceId: string, filters: Filters): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let before = filters.before;
  return new ReadableStream({
    async pull(controller) {
      const batch = await page(sql, workspaceId, { ...filters, before }, EXPORT_BATCH);
      if (batch.length) controller.enqueue(encoder.encode(batch.map((e) => JSON.stringify(e) + "\n").join("")));
      if (batch.length < EXPORT_BATCH) controller.close();
      else before = batch[batch.length - 1].id;
    },
  });
}

/**
 * `Accept: application/x-ndjson`: every matching entry as JSON lines, for export. A middleware in front of the
 * route (index.ts), since a typed handler may only answer the route's JSON; a query it cannot read is left to the
 * route, whose validation answers the usual 400.
 */
export const exportNdjson: MiddlewareHandler<AppEnv> = async (c, next) => {
  const query = AuditQuery.safeParse(c.req.query());
  const wantsNdjson = (c.req.header("accept") ?? "").includes("application/x-ndjson");
  if (c.req.method !== "GET" || !wantsNdjson || !query.success || !c.get("workspace")) return await next();
  const { limit: _limit, ...filters } = parseQuery(query.data);
  const stream = ndjson(c.get("services").sql, c.get("workspace").id, filters);
  return c.body(stream, 200, { "content-type": "application/x-ndjson" });
};

export const list: AppRouteHandler<typeof routes.listAuditRoute> = async (c) => {
  const { sql } = c.get("services");
  const { limit, ...filters } = parseQuery(c.req.valid("query"));
  const items = await page(sql, c.get("workspace").id, filters, limit + 1);
  const more = items.length > limit;
  if (more) items.pop();
  return c.json({ items, next_cursor: more ? encodeCursor(items[items.length - 1].id) : null }, 200);
};
