/**
 * GET /api/runs: the caller's runs across all their workflows, newest first, filtered by workflow, status and time,
 * paged with an opaque keyset cursor over (created_at, id) so pages stay stable while new runs arrive.
 */
import { z } from "@hono/zod-openapi";
import { ApiError } from "../errors.ts";
import { type AppRouteHandler, uuid } from "../openapi.ts";
import { presentRun } from "./present.ts";
import type { searchRunsRoute } from "./routes.ts";
import { RUN_COLUMNS, type RunRow } from "./store.ts";

// PostgreSQL's own text form of a timestamptz, so the cursor keeps its microseconds exactly.
const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;
const CursorSchema = z.tuple([z.string().regex(PG_TIMESTAMP), uuid]);

const encodeCursor = (createdAt: string, id: string) =>
  btoa(JSON.stringify([createdAt, id])).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

function decodeCursor(cursor: string): [string, string] {
  try {
    return CursorSchema.parse(JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/"))));
  } catch {
    throw new ApiError("BAD_REQUEST", "cursor is not a next_cursor this API returned");
  }
}

export const searchRuns: AppRouteHandler<typeof searchRunsRoute> = async (c) => {
  const { sql, config } = c.get("services");
  const q = c.req.valid("query");
  const after = q.cursor ? decodeCursor(q.cursor) : undefined;
  // The workspace is the run's own (runs outlive a soft-deleted workflow), so only workspace_id scopes the list.
  const rows = await sql<(RunRow & { cursor_created_at: string })[]>`
      SELECT ${sql.unsafe(RUN_COLUMNS)}, created_at::text AS cursor_created_at FROM workflow_runs
      WHERE workspace_id = ${c.get("workspace").id}
        ${q.workflow_id ? sql`AND workflow_id = ${q.workflow_id}` : sql``}
        ${q.status ? sql`AND status = ${q.status}` : sql``}
        ${q.since ? sql`AND created_at >= ${q.since}` : sql``}
        ${q.until ? sql`AND created_at < ${q.until}` : sql``}
        ${after ? sql`AND (created_at, id) < (${after[0]}::timestamptz, ${after[1]}::uuid)` : sql``}
      ORDER BY created_at DESC, id DESC
      LIMIT ${q.limit + 1}`;
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  const next = rows.length > q.limit && last ? encodeCursor(last.cursor_created_at, last.id) : null;
  const items = page.map(({ cursor_created_at: _, ...row }) => presentRun(config, row));
  return c.json({ items, next_cursor: next }, 200);
};
