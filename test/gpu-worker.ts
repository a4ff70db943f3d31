/** A GPU-queue worker of a test file's own (its queue, its INDEX_DIR), so restarts touch no other test. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TEST_TASK_QUEUE } from "./env.ts";
import { type Spawned, startWorker } from "./processes.ts";

export interface GpuWorker {
  /** The task queue to give the API as WEFT_GPU_TASK_QUEUE. */
  queue: string;
  indexDir: string;
  process: () => Spawned;
  restart: () => Promise<void>;
  stop: () => Promise<void>;
}

export async function startGpuWorker(): Promise<GpuWorker> {
  const queue = `weft-test-gpu-${process.pid}-${Date.now()}`;
  const indexDir = mkdtempSync(join(tmpdir(), "weft-test-indexes-"));
  const env = {
    WEFT_WORKER_QUEUES: "gpu",
    WEFT_GPU_TASK_QUEUE: queue,
    INDEX_DIR: indexDir,
    WEFT_MODEL_DEVICE: "auto",
    // Health/metrics on a port of its own (the suite's main worker has the default one).
    WORKER_METRICS_PORT: String(20_000 + Math.floor(Math.random() * 20_000)),
  };
  let spawned = await startWorker(TEST_TASK_QUEUE, env);
  return {
    queue,
    indexDir,
    process: () => spawned,
    restart: async () => {
      await spawned.stop();
      spawned = await startWorker(TEST_TASK_QUEUE, env);
    },
    stop: async () => {
      await spawned.stop();
      rmSync(indexDir, { recursive: true, force: true });
    },
  };
}
