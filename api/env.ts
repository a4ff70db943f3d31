/** Hono's typed per-request variables and the services every handler receives. */
import type { PayloadCodec } from "@temporalio/common";
import type { Sql } from "../db/client.ts";
import type { ApiConfig } from "./config.ts";
import type { Logger } from "./logger.ts";
import type { TemporalApi } from "./temporal/client.ts";
import type { WorkflowCache } from "./workflows/cache.ts";
import type { ApiMetrics } from "./metrics.ts";
import type { AccessCache } from "./workspaces/access-cache.ts";
import type { Role } from "./workspaces/roles.ts";
import type { RunEventHub } from "./runs/event-hub.ts";
import type { RunReconciler } from "./runs/reconcile.ts";
import type { SecretKeys } from "./secrets/keys.ts";
import type { TokenService } from "./auth/tokens.ts";
import type { Passwords } from "./auth/passwords.ts";
import type { WorkflowRow } from "./workflows/store.ts";

export interface Services {
  config: ApiConfig;
  sql: Sql;
  /** Temporal as the handlers use it (over its HTTP API in the API process). */
  temporal: TemporalApi;
  logger: Logger;
  /** The payload codec the API's Temporal calls use; served to the Temporal UI as a codec server. */
  codec?: PayloadCodec;
  /** Cached workflow definitions for reads; absent when WEFT_READ_CACHE=false. */
  workflowCache?: WorkflowCache;
  /** Prometheus metrics (api/metrics.ts); absent in tests that do not look at them. */
  metrics?: ApiMetrics;
  /** API keys and workspace roles, cached until an access change is announced (api/workspaces/access-cache.ts). */
  accessCache: AccessCache;
  /** The process's one LISTEN connection for run events, fanned out to SSE streams and `?wait` reads. */
  events: RunEventHub;
  /** Asks Temporal about unfinished runs, at most so often per run (api/runs/reconcile.ts). */
  reconciler: RunReconciler;
  /** The secrets master keys, imported once (api/secrets/keys.ts). */
  secretKeys: SecretKeys;
  /** Signs and verifies access tokens. */
  tokens: TokenService;
  /** Hashes and checks passwords at the configured bcrypt cost. */
  passwords: Passwords;
}

/** What the app is built from; the process-wide services it may create itself are optional. */
export type AppServices =
  & Omit<Services, "workflowCache" | "events" | "reconciler" | "secretKeys" | "tokens" | "passwords" | "accessCache">
  & Partial<Pick<Services, "events">>;

/** What starting a run's workflow needs (the orphan sweeper has no app around it). */
export type EngineServices = Pick<Services, "config" | "sql" | "temporal" | "codec" | "logger">;

export interface AuthUser {
  id: string;
  email: string;
}

/** Who makes the request: a signed-in person, or a service with an API key (which acts only in its workspace). */
export type Actor =
  | { type: "user"; id: string; email: string }
  | { type: "api_key"; id: string; name: string; workspaceId: string; role: Role };

/** The workspace a request acts in (`Weft-Workspace`, or the default) and the caller's role there. */
export interface RequestWorkspace {
  id: string;
  role: Role;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    services: Services;
    /** Set for a person only; an API key's requests have an `actor` and no user. */
    user: AuthUser;
    actor: Actor;
    /** Set on routes the role table gives a role (api/workspaces/roles.ts). */
    workspace: RequestWorkspace;
    /**
     * The caller's workflow named by the path, set by `ownedWorkflow` (api/workflows/owned.ts) on
     * /api/workflows/{id} and everything under it except the run-scoped paths (runs are their own owners').
     */
    workflow: WorkflowRow;
  };
}
