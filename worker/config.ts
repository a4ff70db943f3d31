/** The worker's configuration, read once from the environment and validated with a readable error. */
import { z } from "zod";
import { certAndKeyTogether, certAndKeyTogetherError, temporalTlsEnv } from "../core/temporal-connection.ts";
import { CONNECTION_NAME_PATTERN, SANDBOX_CONNECTION } from "../core/node-types.ts";
import { parseRules } from "../activities/http/egress-policy.ts";

/** A comma-separated egress list, checked here so a typo stops the worker at start. */
const egressList = z.string().default("").superRefine((v, ctx) => {
  try {
    parseRules(v);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
  }
});

/** WEFT_DB_CONNECTIONS: a JSON object of connection name → postgres:// URL, declared by the operator. */
const dbConnections = z.preprocess((v) => v || undefined, z.string().default("{}")).transform((v, ctx) => {
  try {
    return JSON.parse(v) as unknown;
  } catch {
    ctx.addIssue({ code: "custom", message: 'not JSON: give an object like {"orders": "postgres://…"}' });
    return z.NEVER;
  }
}).pipe(
  z.record(z.string(), z.string().regex(/^postgres(ql)?:\/\/[^/]/, { message: "a postgres:// URL" }))
    .superRefine((record, ctx) => {
      for (const name of Object.keys(record)) {
        if (!CONNECTION_NAME_PATTERN.test(name)) {
          ctx.addIssue({ code: "custom", message: `"${name}": connection names are letters, digits, _ and -` });
        }
        if (name === SANDBOX_CONNECTION) {
          ctx.addIssue({ code: "custom", message: `"${name}" is reserved for the built-in per-tenant sandbox` });
        }
      }
    }),
);

export const configSchema = z.object({
  DATABASE_URL: z.string().url().default("postgres://postgres@127.0.0.1:5432/weft"),
  TEMPORAL_ADDRESS: z.string().min(1).default("127.0.0.1:7233"),
  TEMPORAL_NAMESPACE: z.string().min(1).default("default"),
  WEFT_TASK_QUEUE: z.string().min(1).default("weft-cpu"),
  /** Where llm_call, faiss_search and vector ingestion run (the API sends them there). */
  WEFT_GPU_TASK_QUEUE: z.string().min(1).default("weft-gpu"),
  /** Which queues this process polls: both locally; `gpu` on GPU pods, `cpu` on the others. */
  WEFT_WORKER_QUEUES: z.string().default("cpu,gpu").transform((v) => v.split(",").map((q) => q.trim()))
    .pipe(z.array(z.enum(["cpu", "gpu"])).min(1)),
  /** Activities at once on the GPU queue: generations and embeddings share the device. */
  WEFT_GPU_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(1000).default(8),
  /** A bundle made by worker/build-bundle.ts; without it the worker bundles workflows/ at start. */
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).default(100),
  MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(1000),
  /** How long SIGTERM waits for running activities before cancelling them (the pod's grace period must be longer). */
  WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(30),
  /** /healthz and Prometheus /metrics (worker/health.ts). */
  WORKER_METRICS_PORT: z.coerce.number().int().min(1).max(65535).default(9464),
  /** When set, Temporal's own SDK metrics (polls, task latencies, slots) are served on this port. */
  TEMPORAL_METRICS_PORT: z.preprocess((v) => v || undefined, z.coerce.number().int().min(1).max(65535).optional()),
  /**
   * OpenTelemetry traces go to <this>/v1/traces (OTLP/HTTP, JSON) when set; unset, no SDK is loaded
   * (core/tracing-sdk.ts).
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess((v) => v || undefined, z.string().url().optional()),
  OTEL_SERVICE_NAME: z.preprocess((v) => v || undefined, z.string().min(1).optional()),
  /** Hosts/CIDRs (optionally :port or :port-range) nodes may reach besides public addresses. */
  WEFT_EGRESS_ALLOW: egressList,
  /** More of Weft's own infrastructure nodes must never reach, besides what is derived from these settings. */
  WEFT_EGRESS_DENY_EXTRA: egressList,
  /** Temporal's HTTP API and UI (host:port): refused to nodes; by default TEMPORAL_ADDRESS's host at port + 10 and 8233. */
  TEMPORAL_HTTP_ADDRESS: z.string().optional().transform((v) => v || undefined),
  TEMPORAL_UI_ADDRESS: z.string().optional().transform((v) => v || undefined),
  /** Where the Weft API listens (host:port), refused to nodes; by default 127.0.0.1:8000. */
  WEFT_API_ADDRESS: z.string().optional().transform((v) => v || undefined),
  /** The sandbox database (db/sandbox.ts), as a role that may create the tenants' roles; derived by default. */
  WEFT_SANDBOX_DATABASE_URL: z.preprocess((v) => v || undefined, z.string().url().optional()),
  /** Databases db_write nodes may name besides the sandbox (`connection: "<name>"`). */
  WEFT_DB_CONNECTIONS: dbConnections,
  /** The master key: the tenants' sandbox role passwords are derived from it. */
  WEFT_SECRETS_KEY: z.string().optional(),
  /** Finished runs older than this are deleted, hourly, by the retention schedule (activities/runs/retention.ts). */
  WEFT_RUN_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(30),
  /** How long an edge condition or `{{ }}` template may run; a transform's own timeout_ms wins for it. */
  WEFT_EXPRESSION_TIMEOUT_MS: z.coerce.number().int().min(10).max(3_600_000).default(5000),
  /** The heap limit of each process that evaluates expressions (activities/expressions/pool.ts). */
  WEFT_EXPRESSION_MEMORY_MB: z.coerce.number().int().min(16).max(16_384).default(128),
  /** Expressions evaluated at once, each in its own process; more wait for one. */
  WEFT_EXPRESSION_MAX_PROCESSES: z.coerce.number().int().min(1).max(256).default(4),
  ...temporalTlsEnv,
}).refine(certAndKeyTogether, certAndKeyTogetherError);

export type WorkerConfig = z.infer<typeof configSchema>;

export function loadWorkerConfig(env: Record<string, string | undefined>): WorkerConfig {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid worker configuration:\n${lines.join("\n")}`);
  }
  return result.data;
}
