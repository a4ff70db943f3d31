/**
 * What the GPU queue runs: the llm_call and faiss_search node handlers and the vector activities, over one
 * model registry and one vector store per worker process. Nothing heavy loads until first used.
 */
import type { Sql } from "../db/client.ts";
import { type Handler, renderConfig } from "./execute-node.ts";
import { createLlmCall } from "./llm/index.ts";
import type { ModelRegistry } from "./models/registry.ts";
import { createFaissSearch } from "./vector/faiss-search.ts";
import { createVectorActivities } from "./vector/ingest.ts";
import type { VectorStore } from "./vector/store.ts";

export interface GpuDeps {
  sql: Sql;
  models: ModelRegistry;
  store: VectorStore;
}

export function createGpuParts({ sql, models, store }: GpuDeps) {
  const llmCall = createLlmCall(sql, models);
  const faissSearch = createFaissSearch({ sql, models, store });
  const handlers: Record<string, Handler> = {
    llm_call: { prepare: renderConfig, run: (config, _context, signal, meta) => llmCall(config, signal, meta) },
    faiss_search: { prepare: renderConfig, run: (config, _context, _signal, meta) => faissSearch(config, meta) },
  };
  return {
    handlers,
    activities: createVectorActivities({ sql, models, store }, store.config.embedBatchSize),
    models,
    store,
  };
}
