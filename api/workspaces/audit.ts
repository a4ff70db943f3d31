/**
 * Recording who did what: one audit_log row, written with the transaction that makes the change (so a change
 * is never without its record, nor a record without its change). Never pass a secret's value in `details`.
 */
import type { Context } from "hono";
import type { Sql } from "../../db/client.ts";
import { clientAddress } from "../auth/throttle.ts";
import { appendAudit, type AuditActor, type AuditRow } from "../../db/audit-log.ts";
import type { Actor, AppEnv } from "../env.ts";

export type AuditEvent = Omit<AuditRow, "workspaceId" | "actor" | "requestId" | "ip"> & {
  /** The request's workspace unless given (creating or deleting a workspace names it). */
  workspaceId?: string;
};

export const auditActor = (actor: Actor): AuditActor =>
  actor.type === "user"
    ? { type: "user", id: actor.id, label: actor.email }
    : { type: "api_key", id: actor.id, label: actor.name };

/** The request's event: its actor, workspace, request id and client address. */
export function auditRow(c: Context<AppEnv>, event: AuditEvent): AuditRow {
  const ip = clientAddress(c, c.get("services").config.WEFT_TRUSTED_PROXY_HOPS);
  return {
    ...event,
    workspaceId: event.workspaceId ?? c.get("workspace").id,
    actor: auditActor(c.get("actor")),
    requestId: c.get("requestId"),
    ip: ip === "unknown" ? null : ip,
  };
}

/** Appends the request's event in `tx`, the transaction that makes the change. */
export async function audit(tx: Sql, c: Context<AppEnv>, event: AuditEvent): Promise<void> {
  await appendAudit(tx, auditRow(c, event));
}

/** Runs `change` (which appends its audit rows with `audit(tx, c, …)`) in one transaction. */
export async function audited<T>(c: Context<AppEnv>, change: (tx: Sql) => Promise<T>): Promise<T> {
  return await c.get("services").sql.begin((tx) => change(tx as unknown as Sql)) as T;
}

/** As `audited`, for changes to who may do what: this process's access cache is cleared after. */
export async function transaction<T>(c: Context<AppEnv>, change: (tx: Sql) => Promise<T>): Promise<T> {
  try {
    return await audited(c, change);
  } finally {
    const { accessCache } = c.get("services");
    // Other processes hear of it through NOTIFY; this one must not serve its own stale copy meanwhile.
    accessCache.clear();
  }
}
