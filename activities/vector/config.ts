/** Where collection indexes are kept and when they switch to HNSW, read once from the environment (worker side). */
import { fileURLToPath } from "node:url";
import { z } from "zod";

const DEFAULT_INDEX_DIR = fileURLToPath(new URL("../../.state/indexes/", import.meta.url));

const schema = z.object({
  /** Index files, one pair per collection; a cache of PostgreSQL, so any volume (or none) will do. */
  INDEX_DIR: z.string().min(1).default(DEFAULT_INDEX_DIR),
  /** Collections with more documents than this use HNSW (approximate); up to it, an exact flat index. */
  WEFT_VECTOR_HNSW_THRESHOLD: z.coerce.number().int().min(1).default(100_000),
  /** Documents embedded per model call during ingestion. */
  WEFT_EMBED_BATCH_SIZE: z.coerce.number().int().min(1).max(1024).default(32),
});

export interface VectorConfig {
  indexDir: string;
  hnswThreshold: number;
  embedBatchSize: number;
}

export function vectorConfigFromEnv(env: Record<string, string | undefined>): VectorConfig {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid vector configuration:\n${lines.join("\n")}`);
  }
  const c = result.data;
  return {
    indexDir: c.INDEX_DIR,
    hnswThreshold: c.WEFT_VECTOR_HNSW_THRESHOLD,
    embedBatchSize: c.WEFT_EMBED_BATCH_SIZE,
  };
}
