/**
 * The audit log's one write (migration 030: append-only, no foreign keys). Callers pass the transaction that makes
 * the change, so a change is never without its record nor a record without its change. Never a secret's value.
 */
import type { Sql } from "./client.ts";

/** Who the row names: a person by email, a key (or a schedule or hook) by name. */
export interface AuditActor {
  type: "user" | "api_key" | "schedule" | "webhook" | "system";
  id: string | null;
  label: string | null;
}

export interface AuditRow {
  workspaceId: string;
  actor: AuditActor;
  /** `<resource>.<verb>`: `workflow.created`, `member.role_changed`, `api_key.revoked`… */
  action: string;
  resource: { type: string; id: string | null };
  details?: Record<string, unknown>;
  requestId?: string | null;
  ip?: string | null;
}

export async function appendAudit(tx: Sql, row: AuditRow): Promise<void> {
  await tx`INSERT INTO audit_log (workspace_id, actor_type, actor_id, actor_label, action, resource_type,
      resource_id, request_id, ip, details)
    VALUES (${row.workspaceId}, ${row.actor.type}, ${row.actor.id}, ${row.actor.label}, ${row.action},
      ${row.resource.type}, ${row.resource.id}, ${row.requestId ?? null}, ${row.ip ?? null},
      ${tx.json((row.details ?? {}) as never)})`;
}
