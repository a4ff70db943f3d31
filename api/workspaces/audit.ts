/**
 * Recording who did what: one audit_log row, written with the transaction that makes the change (so a change
 * is never without its record, nor a record without its change). Never pass a secret's value in `details`.
 */
import type { Context } from "hono";
import type { Sql } from "../../db/client.ts";
import { clientAddress } from "../auth/throttle.ts";
import type { Actor, AppEnv } from "../env.ts";

export interface AuditEvent {
  /** `<resource>.<verb>`: `workflow.created`, `member.role_changed`, `api_key.revoked`… */
  action: string;
  resource: { type: string; id: string | null };
  details?: Record<string, unknown>;
  /** The request's workspace unless given (creating or deleting a workspace names it). */
  workspaceId?: string;
}

/** Who the row names: a person by email, a key (or a schedule or hook) by name. */
export interface AuditActor {
  type: "user" | "api_key" | "schedule" | "webhook" | "system";
  id: string | null;
  label: string | null;
}

export const auditActor = (actor: Actor): AuditActor =>
  actor.type === "user"
    ? { type: "user", id: actor.id, label: actor.email }
    : { type: "api_key", id: actor.id, label: actor.name };

/** Appends one row; `tx` is the transaction that makes the change. */
export async function appendAudit(
  tx: Sql,
  row: AuditEvent & { workspaceId: string; actor: AuditActor; requestId?: string | null; ip?: string | null },
): Promise<void> {
  await tx`INSERT INTO audit_log (workspace_id, actor_type, actor_id, actor_label, action, resource_type,
      resource_id, request_id, ip, details)
    VALUES (${row.workspaceId}, ${row.actor.type}, ${row.actor.id}, ${row.actor.label}, ${row.action},
      ${row.resource.type}, ${row.resource.id}, ${row.requestId ?? null}, ${row.ip ?? null},
      ${tx.json((row.details ?? {}) as never)})`;
}

/** Appends the request's event: its actor, workspace, request id and client address. */
export async function audit(tx: Sql, c: Context<AppEnv>, event: AuditEvent): Promise<void> {
  const ip = clientAddress(c, c.get("services").config.WEFT_TRUSTED_PROXY_HOPS);
  await appendAudit(tx, {
    ...event,
    workspaceId: event.workspaceId ?? c.get("workspace").id,
    actor: auditActor(c.get("actor")),
    requestId: c.get("requestId"),
    ip: ip === "unknown" ? null : ip,
  });
}

/** Runs `change` in one transaction (its audit rows with it); this process's access cache is cleared after. */
export async function transaction<T>(c: Context<AppEnv>, change: (tx: Sql) => Promise<T>): Promise<T> {
  const { sql, accessCache } = c.get("services");
  try {
    return await sql.begin((tx) => change(tx as unknown as Sql)) as T;
  } finally {
    // Other processes hear of it through NOTIFY; this one must not serve its own stale copy meanwhile.
    accessCache.clear();
  }
}
