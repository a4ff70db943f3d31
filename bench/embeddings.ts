/**
 * `node --import tsx bench/embeddings.ts [DOCS=10000]`: the embedding model the worker is configured with
 * (MODEL_DIR, WEFT_EMBEDDING_MODEL; all-MiniLM-L6-v2 in the run command's stack) — sentences/s at batch 1 and
 * batch 32 — and an ingestion of DOCS documents end to end on the worker's code: rows into PostgreSQL, the
 * embed and commit activities (batches of WEFT_EMBED_BATCH_SIZE), the FAISS index built and persisted, then a
 * search. Results go to bench/results/embeddings.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MockActivityEnvironment } from "@temporalio/testing";
import { modelConfigFromEnv } from "../activities/models/config.ts";
import { ModelRegistry } from "../activities/models/registry.ts";
import { vectorConfigFromEnv } from "../activities/vector/config.ts";
import { createVectorActivities } from "../activities/vector/ingest.ts";
import { searchDocuments } from "../activities/vector/search.ts";
import { VectorStore } from "../activities/vector/store.ts";
import { benchDatabase, benchUser, median } from "./ai-db.ts";

const DOCS = Number(process.argv[2] ?? 10_000);
const TOPICS = ["rain", "harbour", "mountain", "market", "library", "train", "garden", "river", "bakery", "bridge"];
const doc = (i: number) =>
  `Note ${i}: the ${TOPICS[i % 10]} near district ${i % 97} was ${
    ["busy", "quiet", "flooded", "sunny"][i % 4]
  } on day ${i % 365}.`;

const models = new ModelRegistry(modelConfigFromEnv(process.env), () => {});
const embedder = await models.embedder();
const sentences = Array.from({ length: 256 }, (_, i) => doc(i));
const one: number[] = [];
const batched: number[] = [];
await embedder.embed(sentences.slice(0, 32)); // warm-up
for (let round = 0; round < 3; round++) {
  let t0 = performance.now();
  for (const s of sentences.slice(0, 64)) await embedder.embed([s]);
  one.push(64 / ((performance.now() - t0) / 1000));
  t0 = performance.now();
  for (let i = 0; i < sentences.length; i += 32) await embedder.embed(sentences.slice(i, i + 32));
  batched.push(sentences.length / ((performance.now() - t0) / 1000));
}

const db = await benchDatabase();
const indexDir = mkdtempSync(join(tmpdir(), "weft-bench-embeddings-"));
try {
  const { sql } = db;
  const vectorConfig = { ...vectorConfigFromEnv(process.env), indexDir };
  const store = new VectorStore(sql, vectorConfig);
  const deps = { sql, models, store };
  const owner = await benchUser(sql);
  const [collection] = await sql`INSERT INTO vector_collections (owner_id, name) VALUES (${owner}, 'bench')
    RETURNING id`;
  const ingestionId = crypto.randomUUID();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sql`INSERT INTO vector_ingestions (id, collection_id, total) VALUES (${ingestionId}, ${collection.id}, ${DOCS})`;
  for (let i = 0; i < DOCS; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, DOCS - i) }, (_, j) => ({
      collection_id: collection.id,
      ingestion_id: ingestionId,
      ordinal: i + j,
      text: doc(i + j),
    }));
    await sql`INSERT INTO vector_documents ${sql(rows as never)}`;
  }
  const tRows = performance.now();
  const activities = createVectorActivities(deps, vectorConfig.embedBatchSize);
  const env = new MockActivityEnvironment();
  await env.run(activities.embedIngestion, { ingestionId });
  const tEmbedded = performance.now();
  await env.run(activities.commitIngestion, { ingestionId });
  const tCommitted = performance.now();
  // On a shared machine wall time mostly measures the neighbours; this process's own CPU time does not.
  const cpu = process.cpuUsage(cpu0);
  const [row] = await sql`SELECT id, owner_id, name, embedding_model, dimension, document_count FROM vector_collections
    WHERE id = ${collection.id}`;
  const tq = performance.now();
  const hits = await searchDocuments(deps, row as never, { query: "a flooded river", top_k: 5 });
  const searchMs = performance.now() - tq;

  const result = {
    date: new Date().toISOString(),
    model: embedder.name,
    device: embedder.device,
    dimension: embedder.dimension,
    batch1_sentences_per_s: median(one),
    batch32_sentences_per_s: median(batched),
    ingest: {
      documents: DOCS,
      batch_size: vectorConfig.embedBatchSize,
      rows_ms: Math.round(tRows - t0),
      embed_ms: Math.round(tEmbedded - tRows),
      commit_and_index_ms: Math.round(tCommitted - tEmbedded),
      total_ms: Math.round(tCommitted - t0),
      documents_per_s: Math.round(DOCS / ((tCommitted - t0) / 1000)),
      cpu_s: Math.round((cpu.user + cpu.system) / 1e5) / 10,
      documents_per_cpu_s: Math.round(DOCS / ((cpu.user + cpu.system) / 1e6)),
      first_search_ms: Math.round(searchMs),
      top_hit: hits[0]?.text,
    },
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/embeddings.json", JSON.stringify({ ...result, one, batched }, null, 2));
} finally {
  await db.close();
  rmSync(indexDir, { recursive: true, force: true });
}
