/** API key handlers: created with a role no higher than the creator's, revoked at once everywhere. */
import { newApiKey } from "../auth/api-keys.ts";
import type { AppRouteHandler } from "../openapi.ts";
import { ApiError, notFound } from "../errors.ts";
import type * as routes from "./api-keys.routes.ts";
import { audit, transaction } from "./audit.ts";
import { atLeast } from "./roles.ts";

const COLUMNS = "id, name, role, prefix, created_at, expires_at, last_used_at";

export const list: AppRouteHandler<typeof routes.listApiKeysRoute> = async (c) => {
  const { sql } = c.get("services");
  const items = await sql`SELECT ${sql.unsafe(COLUMNS)} FROM api_keys
    WHERE workspace_id = ${c.get("workspace").id} AND revoked_at IS NULL ORDER BY created_at DESC, id`;
  return c.json({ items } as never, 200);
};

export const create: AppRouteHandler<typeof routes.createApiKeyRoute> = async (c) => {
  const { id: workspaceId, role: callerRole } = c.get("workspace");
  const body = c.req.valid("json");
  if (!atLeast(callerRole, body.role)) {
    throw new ApiError("FORBIDDEN", `a key's role cannot exceed its creator's (${callerRole})`);
  }
  if (body.expires_at && Date.parse(body.expires_at) <= Date.now()) {
    throw new ApiError("VALIDATION_ERROR", "expires_at is in the past", [
      { field: "expires_at", location: "body", message: "must be in the future" },
    ]);
  }
  const actor = c.get("actor");
  const { key, prefix, hash } = await newApiKey();
  const row = await transaction(c, async (tx) => {
    const [row] = await tx`INSERT INTO api_keys (workspace_id, name, role, prefix, key_hash, created_by, expires_at)
      VALUES (${workspaceId}, ${body.name}, ${body.role}, ${prefix}, ${hash},
        ${actor.type === "user" ? actor.id : null}, ${body.expires_at ?? null})
      RETURNING id, name, role, prefix, created_at, expires_at`;
    await audit(tx, c, {
      action: "api_key.created",
      resource: { type: "api_key", id: row.id as string },
      details: { name: body.name, role: body.role, prefix, expires_at: body.expires_at ?? null },
    });
    return row;
  });
  return c.json({ ...row, key } as never, 201);
};

export const revoke: AppRouteHandler<typeof routes.revokeApiKeyRoute> = async (c) => {
  const { key_id } = c.req.valid("param");
  const revoked = await transaction(c, async (tx) => {
    const [row] = await tx`UPDATE api_keys SET revoked_at = now()
      WHERE id = ${key_id} AND workspace_id = ${c.get("workspace").id} AND revoked_at IS NULL
      RETURNING name, prefix`;
    if (row) {
      await audit(tx, c, {
        action: "api_key.revoked",
        resource: { type: "api_key", id: key_id },
        details: { name: row.name, prefix: row.prefix },
      });
    }
    return !!row;
  });
  if (!revoked) throw notFound("API key");
  return c.body(null, 204);
};
