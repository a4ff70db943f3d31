/** The worker's configuration, read once from the environment and validated with a readable error. */
import { z } from "zod";
import { certAndKeyTogether, certAndKeyTogetherError, temporalTlsEnv } from "../core/temporal-connection.ts";

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
