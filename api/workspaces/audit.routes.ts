/** The audit log's route: newest first, filtered, paged by an opaque cursor; NDJSON for export. */
import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, errorResponses, ErrorSchema } from "../openapi.ts";
import { WorkspaceParams } from "./workspaces.routes.ts";

export const AuditEntrySchema = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.object({
    type: z.enum(["user", "api_key", "schedule", "webhook", "system"]),
    id: z.string().nullable(),
    email: z.string().optional(),
    name: z.string().optional(),
  }),
  action: z.string(),
  resource: z.object({ type: z.string(), id: z.string().nullable() }),
  request_id: z.string().nullable(),
  ip: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
}).openapi("AuditEntry");

export const AuditQuery = z.object({
  action: z.string().max(100).optional().openapi({
    description: "An action (`workflow.created`) or all of a kind (`workflow.*`)",
  }),
  actor_id: z.string().max(100).optional(),
  resource_id: z.string().max(100).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(100).optional(),
});

export const listAuditRoute = createRoute({
  method: "get",
  path: "/api/workspaces/{id}/audit",
  tags: ["workspaces"],
  security: bearerSecurity,
  summary: "Who did what in the workspace, newest first (admin). `Accept: application/x-ndjson` streams every " +
    "matching entry as JSON lines, for export",
  request: { params: WorkspaceParams, query: AuditQuery },
  responses: {
    200: {
      description: "A page of entries, and the cursor of the next page (null at the end)",
      content: {
        "application/json": {
          schema: z.object({ items: z.array(AuditEntrySchema), next_cursor: z.string().nullable() }),
        },
        "application/x-ndjson": { schema: AuditEntrySchema },
      },
    },
    ...errorResponses,
    403: { description: "FORBIDDEN: not an admin", content: { "application/json": { schema: ErrorSchema } } },
  },
});

export type AuditEntry = z.infer<typeof AuditEntrySchema>;
