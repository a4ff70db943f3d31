/**
 * The worker's configuration: its own settings plus the fragments of the modules it runs, parsed once at start
 * (worker/main.ts) with a readable error; everything else receives the typed result.
 */
import { z } from "zod";
import { certAndKeyTogether, certAndKeyTogetherError, temporalEnv } from "../core/temporal-connection.ts";
import { databaseEnv, type Env, parseEnv, taskQueueEnv, tracingEnv } from "../core/env.ts";
import { secretsEnv } from "../core/secrets-crypto.ts";
import { payloadEnv } from "../core/payload-codec.ts";
import { sandboxEnv } from "../db/sandbox.ts";
import { dbConnectionsEnv } from "../activities/db/connections.ts";
import { expressionEnv } from "../activities/expressions/pool.ts";
import { egressEnv } from "../activities/http/control-plane.ts";
import { modelEnv } from "../activities/models/config.ts";
import { retentionEnv } from "../activities/runs/retention.ts";
import { vectorEnv } from "../activities/vector/config.ts";

/** The worker process's own settings: queues, concurrency, the workflow bundle, ports, shutdown. */
const workerProcessEnv = {
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
};

/** What every worker reads: a CPU-only pod (WEFT_WORKER_QUEUES=cpu) needs nothing more. */
const cpuWorkerEnv = {
  ...databaseEnv,
  ...temporalEnv,
  ...taskQueueEnv,
  ...workerProcessEnv,
  ...tracingEnv,
  ...egressEnv,
  ...sandboxEnv,
  ...dbConnectionsEnv,
  ...secretsEnv,
  ...payloadEnv,
  ...retentionEnv,
  ...expressionEnv,
};

export const cpuWorkerSchema = z.object(cpuWorkerEnv).refine(certAndKeyTogether, certAndKeyTogetherError);

/** A worker that polls the GPU queue also loads models and keeps vector indexes. */
export const gpuWorkerSchema = z.object({ ...cpuWorkerEnv, ...modelEnv, ...vectorEnv }).refine(
  certAndKeyTogether,
  certAndKeyTogetherError,
);

/** One process may poll both queues (the default), so the worker's configuration is the GPU schema's. */
export type WorkerConfig = z.infer<typeof gpuWorkerSchema>;

export function loadWorkerConfig(env: Env): WorkerConfig {
  return parseEnv(gpuWorkerSchema, env, "worker");
}

/** The environment of the processes that evaluate users' expressions: the worker's PATH and NODE_ENV only. */
export const expressionChildEnv = (env: Env) => ({
  PATH: env.PATH ?? "/usr/bin:/bin",
  NODE_ENV: env.NODE_ENV ?? "production",
});
