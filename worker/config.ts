/** The worker's configuration, read once from the environment and validated with a readable error. */
import { z } from "zod";

const configSchema = z.object({
  DATABASE_URL: z.string().url().default("postgres://postgres@127.0.0.1:5432/weft"),
  TEMPORAL_ADDRESS: z.string().min(1).default("127.0.0.1:7233"),
  TEMPORAL_NAMESPACE: z.string().min(1).default("default"),
  WEFT_TASK_QUEUE: z.string().min(1).default("weft-cpu"),
  /** A bundle made by worker/build-bundle.ts; without it the worker bundles workflows/ at start. */
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).default(100),
  MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(1000),
});

export type WorkerConfig = z.infer<typeof configSchema>;

export function loadWorkerConfig(env: Record<string, string | undefined>): WorkerConfig {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid worker configuration:\n${lines.join("\n")}`);
  }
  return result.data;
}
