/** The GPU queue's Worker (llm_call, faiss_search, ingestion and search): models load on first use. */
import { type NativeConnection, Worker, type WorkerOptions } from "@temporalio/worker";
import type { createActivities } from "../activities/index.ts";
import { cudaProviderInstalled } from "../activities/models/registry.ts";
import { WORKFLOWS_PATH } from "./bundle.ts";
import type { WorkerConfig } from "./config.ts";

export async function createGpuWorker(
  connection: NativeConnection,
  config: WorkerConfig,
  activities: ReturnType<typeof createActivities>,
  log: (msg: string, fields: Record<string, unknown>) => void,
  dataConverter: WorkerOptions["dataConverter"],
  /** Trace interceptors and the workflows' span sink, as the CPU queue's worker has them (worker/main.ts). */
  tracing: Pick<WorkerOptions, "interceptors" | "sinks"> = {},
): Promise<Worker> {
  const worker = await Worker.create({
    connection,
    dataConverter,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.WEFT_GPU_TASK_QUEUE,
    // Ingestion and search workflows run here too, next to their activities.
    ...(config.WORKFLOW_BUNDLE_PATH
      ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH } }
      : { workflowsPath: WORKFLOWS_PATH }),
    activities,
    ...tracing,
    maxConcurrentActivityTaskExecutions: config.WEFT_GPU_MAX_CONCURRENT_ACTIVITIES,
    // A cancelled run's generation stops within about a second: cancellation arrives with a heartbeat reply.
    maxHeartbeatThrottleInterval: "1s",
    shutdownGraceTime: config.WORKER_SHUTDOWN_GRACE_SECONDS * 1000,
  });
  log("gpu queue ready", {
    task_queue: config.WEFT_GPU_TASK_QUEUE,
    // Each model also logs the device it actually loaded on ("model loaded").
    device: config.WEFT_MODEL_DEVICE === "cpu" || !cudaProviderInstalled() ? "cpu" : "cuda",
  });
  return worker;
}
