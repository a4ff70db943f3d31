/** Where collection indexes are kept and when they switch to HNSW: the GPU worker's config spreads `vectorEnv`. */
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { type Env, parseEnv } from "../../core/env.ts";

const DEFAULT_INDEX_DIR = fileURLToPath(new URL("../../.state/indexes/", import.meta.url));

export const vectorEnv = {
  /** Index files, one pair per collection; a cache of PostgreSQL, so any volume (or none) will do. */
  INDEX_DIR: z.string().min(1).default(DEFAULT_INDEX_DIR),
  /** Collections with more documents than this use HNSW (approximate); up to it, an exact flat index. */
  WEFT_VECTOR_HNSW_THRESHOLD: z.coerce.number().int().min(1).default(100_000),
  /** Documents embedded per model call during ingestion. */
  WEFT_EMBED_BATCH_SIZE: z.coerce.number().int().min(1).max(1024).default(32),
};
const schema = z.object(vectorEnv);

export interface VectorConfig {
  indexDir: string;
  hnswThreshold: number;
  embedBatchSize: number;
}

/** A VectorStore's settings from a process's parsed config. */
export function vectorConfig(c: z.infer<typeof schema>): VectorConfig {
  return {
    indexDir: c.INDEX_DIR,
    hnswThreshold: c.WEFT_VECTOR_HNSW_THRESHOLD,
    embedBatchSize: c.WEFT_EMBED_BATCH_SIZE,
  };
}

/** The settings from variables (tests and benchmarks name theirs; the worker parses its whole config once). */
export const vectorConfigFromEnv = (env: Env): VectorConfig => vectorConfig(parseEnv(schema, env, "vector"));
