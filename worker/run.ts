/**
 * The worker process (Node) from its parsed configuration: connects, builds the activities' clients and runs the
 * workers of the queues it polls until SIGINT/SIGTERM drains them. worker/main.ts is the production entry;
 * test entries (test/fault-worker.ts) pass test hooks.
 */
import { readFileSync } from "node:fs";
import { NativeConnection, Runtime, Worker, type WorkerOptions } from "@temporalio/worker";
import { type ActivityDeps, createActivities } from "../activities/index.ts";
import { ExpressionPool } from "../activities/expressions/pool.ts";
import { temporalTlsOptions } from "../core/temporal-connection.ts";
import { connect } from "../db/client.ts";
import { weftDataConverter } from "../core/payload-codec.ts";
import { payloadTenantKeys } from "../db/payload-keys.ts";
import { activityDeps } from "./activity-deps.ts";
import { FAILURE_CONVERTER_PATH, WORKFLOW_INTERCEPTORS_PATH, WORKFLOWS_PATH } from "./bundle.ts";
import type { WorkerConfig } from "./config.ts";
import { createGpuWorker } from "./gpu.ts";
import { serveWorkerHealth } from "./health.ts";

export interface RunWorkerOptions {
  /** The evaluators' environment (worker/config.ts's expressionChildEnv). */
  expressionEnv: Record<string, string>;
  /** Test hooks; production passes none. */
  faults?: ActivityDeps["faults"];
}

/** Runs until the workers drain, then exits the process. */
export async function runWorker(config: WorkerConfig, { expressionEnv, faults }: RunWorkerOptions) {
  const log = (msg: string, fields: Record<string, unknown> = {}) =>
    console.log(
      JSON.stringify({ time: new Date().toISOString(), level: "info", msg, service: "weft-worker", ...fields }),
    );

  if (config.TEMPORAL_METRICS_PORT) {
    // Must precede the first connection: the SDK's own metrics, served by its core on a port of their own.
    Runtime.install({
      telemetryOptions: { metrics: { prometheus: { bindAddress: `0.0.0.0:${config.TEMPORAL_METRICS_PORT}` } } },
    });
  }

  // Traces only when an OTLP endpoint is configured; otherwise no SDK is loaded and no interceptor is installed.
  const tracing = config.OTEL_EXPORTER_OTLP_ENDPOINT
    ? await (await import("./tracing.ts")).workerTracing(
      config.OTEL_EXPORTER_OTLP_ENDPOINT,
      config.OTEL_SERVICE_NAME ?? "weft-worker",
    )
    : undefined;

  const sql = connect(config.DATABASE_URL, { max: 20 });
  const connection = await NativeConnection.connect({
    address: config.TEMPORAL_ADDRESS,
    ...temporalTlsOptions(config, (path) => readFileSync(path)),
  });
  // Users' expressions run in child processes with these bounds; two are booted now so the first runs don't wait.
  const expressions = new ExpressionPool({
    timeoutMs: config.WEFT_EXPRESSION_TIMEOUT_MS,
    memoryMb: config.WEFT_EXPRESSION_MEMORY_MB,
    maxProcesses: config.WEFT_EXPRESSION_MAX_PROCESSES,
  }, expressionEnv);
  await expressions.warm();
  const activities = createActivities({ ...activityDeps(sql, config, { expressions, log }), faults });
  // Every payload Weft puts into Temporal is encrypted when WEFT_PAYLOAD_KEY is set, each tenant's with its own key;
  // failure messages and stack traces are encoded too.
  const codec = await weftDataConverter(config, await payloadTenantKeys(sql, config));
  const dataConverter = { ...codec, failureConverterPath: FAILURE_CONVERTER_PATH };
  // A GPU pod (WEFT_WORKER_QUEUES=gpu) polls only the GPU queue; by default one process polls both.
  const pollsCpu = config.WEFT_WORKER_QUEUES.includes("cpu");
  const taskQueue = pollsCpu ? config.WEFT_TASK_QUEUE : config.WEFT_GPU_TASK_QUEUE;
  // Both queues' workers: the workflow interceptors are in the bundle (worker/bundle.ts), or added here without one;
  // a worker with tracing off still takes the workflows' spans (a run the API traced) and drops them, quietly.
  const tracingOptions: Pick<WorkerOptions, "interceptors" | "sinks"> = {
    interceptors: {
      ...(config.WORKFLOW_BUNDLE_PATH ? {} : { workflowModules: [WORKFLOW_INTERCEPTORS_PATH] }),
      ...(tracing ? { activity: tracing.activityInterceptors } : {}),
    },
    sinks: tracing ? tracing.sinks : { exporter: { export: { fn: () => {} } } },
  };
  const worker = await Worker.create({
    connection,
    dataConverter,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue,
    ...(config.WORKFLOW_BUNDLE_PATH
      ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH } }
      : { workflowsPath: WORKFLOWS_PATH }),
    activities,
    ...tracingOptions,
    maxConcurrentActivityTaskExecutions: config.MAX_CONCURRENT_ACTIVITIES,
    maxCachedWorkflows: config.MAX_CACHED_WORKFLOWS,
    // SIGINT/SIGTERM drain the worker: running activities finish or are handed back before exit.
    shutdownGraceTime: config.WORKER_SHUTDOWN_GRACE_SECONDS * 1000,
  });
  serveWorkerHealth(worker, {
    port: config.WORKER_METRICS_PORT,
    labels: { task_queue: taskQueue },
    warn: (msg, fields) => log(msg, { level: "warn", ...fields }),
  });
  const gpuWorker = pollsCpu && config.WEFT_WORKER_QUEUES.includes("gpu")
    ? await createGpuWorker(connection, config, activities, log, dataConverter, tracingOptions)
    : null;
  log("worker started", {
    task_queue: taskQueue,
    namespace: config.TEMPORAL_NAMESPACE,
    queues: config.WEFT_WORKER_QUEUES,
  });
  await Promise.all([worker.run(), gpuWorker?.run()]);
  expressions.close();
  await sql.end({ timeout: 5 });
  await connection.close();
  await tracing?.shutdown();
  log("worker stopped");
  // Pools opened lazily by activities (the db_write sandbox, models) must not keep a drained worker alive.
  process.exit(0);
}
