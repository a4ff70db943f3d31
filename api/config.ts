/**
 * The API's configuration: its own settings plus the shared fragments it uses, parsed once at start (api/main.ts)
 * with a readable error; everything else receives the typed result.
 */
import { z } from "zod";
import { temporalHttpTarget } from "./temporal/address.ts";
import { certAndKeyTogether, certAndKeyTogetherError, temporalEnv } from "../core/temporal-connection.ts";
import { databaseEnv, type Env, flag, parseEnv, taskQueueEnv, tracingEnv } from "../core/env.ts";
import { secretsEnv } from "../core/secrets-crypto.ts";
import { payloadEnv } from "../core/payload-codec.ts";

export const configSchema = z.object({
  ...databaseEnv,
  ...temporalEnv,
  ...taskQueueEnv,
  ...tracingEnv,
  ...secretsEnv,
  ...payloadEnv,
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  /**
   * Temporal's HTTP API, which the API calls (the worker uses gRPC on TEMPORAL_ADDRESS): host:port or a URL;
   * by default TEMPORAL_ADDRESS's host at its port + 10 (see api/temporal/address.ts).
   */
  TEMPORAL_HTTP_ADDRESS: z.string().optional().transform((v) => v || undefined),
  TEMPORAL_UI_URL: z.string().url().default("http://localhost:8233"),
  /**
   * A Temporal UI (public path /temporal: the dev server's, or the Helm chart's temporalUi) the API serves under
   * /temporal/ to signed-in users, so the UI and the codec endpoint share one origin and its decode calls carry the
   * session.
   */
  TEMPORAL_UI_PROXY_URL: z.string().url().optional(),
  /** Prometheus /metrics on a port of its own (not behind the Ingress); 0 turns it off. */
  WEFT_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9466),
  JWT_SECRET: z.string().min(32, "JWT_SECRET must be at least 32 characters"),
  JWT_ISSUER: z.string().default("weft"),
  JWT_AUDIENCE: z.string().default("weft-api"),
  JWT_TTL_SECONDS: z.coerce.number().int().min(60).max(30 * 86400).default(3600),
  BCRYPT_COST: z.coerce.number().int().min(12).max(16).default(12),
  /** Login attempts not followed by success, per account and per client address, within one window. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(10),
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).default(100),
  LOGIN_THROTTLE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86400).default(900),
  /**
   * How many reverse proxies in front of the API append to X-Forwarded-For: 0 (the default) uses the socket's
   * peer address; n uses the n-th address from the right, the one the outermost trusted proxy saw.
   */
  WEFT_TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  /** Set to false on a cluster without Weft's search attributes (see core/search-attributes.ts). */
  TEMPORAL_SEARCH_ATTRIBUTES: flag("true"),
  /** A run's workflow continues as new past this many history events (Temporal's limit: 51,200). */
  WEFT_MAX_HISTORY_EVENTS: z.coerce.number().int().min(100).max(50_000).default(10_000),
  /** How deep sub_workflow nodes (and maps over workflows) may nest runs started through the API. */
  WEFT_MAX_SUB_WORKFLOW_DEPTH: z.coerce.number().int().min(1).max(100).default(10),
  /** A map over a workflow with more items starts its child runs in batches of this many (workflows/map-batch.ts). */
  WEFT_MAP_BATCH_ITEMS: z.coerce.number().int().min(1).max(1000).default(500),
  /** Temporal's blob size limit for a workflow's input (2 MiB by default); larger runs answer 413 GRAPH_TOO_LARGE. */
  WEFT_MAX_WORKFLOW_INPUT_BYTES: z.coerce.number().int().min(1024).default(2 * 1024 * 1024),
  WEFT_READ_CACHE: flag("true"),
  LOG_REQUESTS: flag("true"),
  /** PostgreSQL connections this process holds at most; requests queue for one, none holds one while waiting. */
  WEFT_DB_POOL_MAX: z.coerce.number().int().min(1).max(500).default(20),
  /** SIGTERM ends the process within this long, in-flight requests or not (keep it under the pod's grace). */
  WEFT_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(20_000),
  /**
   * /healthz fails when a pooled query takes longer than this while a fresh connection answers (a wedged pool).
   * With the 1 s fresh-connection check it must stay under the liveness probe's timeout (3 s in k8s/ and helm/).
   */
  WEFT_LIVENESS_POOL_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(1500),
  /** A pending run whose workflow start Temporal has not confirmed for this long is started by the sweeper
   * (longer than a start call can take, two tries of 15 s, so a start still in flight is not raced). */
  WEFT_ORPHAN_AFTER_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  /** How often the orphan sweeper looks (0 turns it off in this process). */
  WEFT_ORPHAN_SWEEP_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
  /** An orphaned run that still cannot be started after this long (Temporal away) is closed as failed. */
  WEFT_ORPHAN_FAIL_AFTER_MS: z.coerce.number().int().min(1000).max(7 * 86_400_000).default(3_600_000),
}).refine(certAndKeyTogether, certAndKeyTogetherError).superRefine((config, ctx) => {
  try {
    temporalHttpTarget(config);
  } catch (err) {
    ctx.addIssue({ code: "custom", path: ["TEMPORAL_HTTP_ADDRESS"], message: (err as Error).message });
  }
});

export type ApiConfig = z.infer<typeof configSchema>;

export function loadConfig(env: Env): ApiConfig {
  return parseEnv(configSchema, env, "API");
}
