/**
 * Retrieval quality with the real all-MiniLM-L6-v2, end to end on the worker's code: a labelled set the repo
 * carries (testdata/retrieval-pairs.json, each query a paraphrase of one document) is ingested through the
 * ingestion activities into PostgreSQL and FAISS, then every query goes through the faiss_search node.
 * recall@5 must reach 0.9; MRR is reported. A second user's run cannot search the collection.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MockActivityEnvironment } from "@temporalio/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Sql } from "../../db/client.ts";
import { TEST_DATABASE_URL } from "../../test/env.ts";
import { INSTALLED_MODELS_DIR, modelConfigFromEnv, REAL_EMBEDDING_MODEL } from "../models/config.ts";
import { ModelRegistry } from "../models/registry.ts";
import { createFaissSearch } from "./faiss-search.ts";
import { createVectorActivities } from "./ingest.ts";
import { VectorStore } from "./store.ts";

const { pairs }: { pairs: { doc: string; query: string }[] } = JSON.parse(
  readFileSync(new URL("./testdata/retrieval-pairs.json", import.meta.url), "utf8"),
);

let sql: Sql;
let dir: string;
const users: string[] = [];
let collectionId: string;
let faissSearch: ReturnType<typeof createFaissSearch>;

/** A user with one workflow run: faiss_search searches the run owner's collections. */
async function userWithRun(): Promise<{ userId: string; runId: string }> {
  const [{ id: userId }] = await sql`INSERT INTO users (email, password_hash)
    VALUES (${`retrieval-${randomUUID()}@x.test`}, 'x') RETURNING id`;
  users.push(userId);
  const [{ id: workflowId }] = await sql`INSERT INTO workflows (owner_id, name) VALUES (${userId}, 'retrieval')
    RETURNING id`;
  const [{ id: runId }] = await sql`INSERT INTO workflow_runs (workflow_id, owner_id, status, snapshot, version_hash,
    workflow_version, temporal_workflow_id) VALUES (${workflowId}, ${userId}, 'running', '{}', 'h', 1, ${randomUUID()})
    RETURNING id`;
  return { userId, runId };
}

let owner: { userId: string; runId: string };

beforeAll(async () => {
  sql = connect(TEST_DATABASE_URL, { max: 4 });
  dir = mkdtempSync(join(tmpdir(), "weft-retrieval-"));
  const models = new ModelRegistry(
    modelConfigFromEnv({ MODEL_DIR: INSTALLED_MODELS_DIR, WEFT_EMBEDDING_MODEL: REAL_EMBEDDING_MODEL }),
    () => {},
  );
  const store = new VectorStore(sql, { indexDir: dir, hnswThreshold: 100_000, embedBatchSize: 32 });
  const deps = { sql, models, store };
  faissSearch = createFaissSearch(deps);
  owner = await userWithRun();

  // The documents enter the way the API's ingestion does: rows first, then embed and commit activities.
  [{ id: collectionId }] = await sql`INSERT INTO vector_collections (owner_id, name)
    VALUES (${owner.userId}, 'retrieval') RETURNING id`;
  const ingestionId = randomUUID();
  await sql`INSERT INTO vector_ingestions (id, collection_id, total) VALUES (${ingestionId}, ${collectionId},
    ${pairs.length})`;
  await sql`INSERT INTO vector_documents ${
    sql(pairs.map((p, i) => ({
      collection_id: collectionId,
      ingestion_id: ingestionId,
      ordinal: i,
      text: p.doc,
      metadata: { pair: i },
    })) as never)
  }`;
  const activities = createVectorActivities(deps, 32);
  // Ingestion activities act only inside the workflow the API starts for that ingestion (run-guard.ts).
  const env = new MockActivityEnvironment({
    workflowType: "ingestDocuments",
    workflowExecution: { workflowId: `weft-ingest-${ingestionId}`, runId: randomUUID() },
  });
  await env.run(activities.embedIngestion, { ingestionId });
  await env.run(activities.commitIngestion, { ingestionId });
}, 120_000);

afterAll(async () => {
  if (users.length) await sql`DELETE FROM users WHERE id = ANY(${users}::uuid[])`;
  await sql.end();
  rmSync(dir, { recursive: true, force: true });
});

describe("retrieval with all-MiniLM-L6-v2 through faiss_search", () => {
  it(`finds the paraphrased document in the top 5 for ≥ 90% of ${pairs.length} queries (MRR reported)`, async () => {
    expect(pairs.length).toBeGreaterThanOrEqual(100);
    const [collection] = await sql`SELECT embedding_model, dimension, document_count FROM vector_collections
      WHERE id = ${collectionId}`;
    expect(collection).toEqual({ embedding_model: REAL_EMBEDDING_MODEL, dimension: 384, document_count: pairs.length });

    let hits = 0;
    let reciprocalRanks = 0;
    const misses: string[] = [];
    for (const [i, pair] of pairs.entries()) {
      const { results } = await faissSearch({ collection: "retrieval", query: pair.query, top_k: 5 }, {
        runId: owner.runId,
      });
      expect(results.length).toBe(5);
      const rank = results.findIndex((r) => r.metadata.pair === i);
      if (rank >= 0) {
        hits++;
        reciprocalRanks += 1 / (rank + 1);
        expect(results[rank].text).toBe(pair.doc);
      } else misses.push(`${pair.query} → ${results[0].text}`);
    }
    const recall = hits / pairs.length;
    const mrr = reciprocalRanks / pairs.length;
    console.log(
      `retrieval: recall@5 ${recall.toFixed(3)}, MRR@5 ${mrr.toFixed(3)} over ${pairs.length} queries; misses:\n  ${
        misses.join("\n  ")
      }`,
    );
    expect(recall).toBeGreaterThanOrEqual(0.9);
  });

  it("does not let another user's run search the collection (by name or by id), and changes nothing", async () => {
    const other = await userWithRun();
    const before = await sql`SELECT document_count FROM vector_collections WHERE id = ${collectionId}`;
    for (const collection of ["retrieval", collectionId]) {
      await expect(faissSearch({ collection, query: pairs[0].query, top_k: 5 }, { runId: other.runId }))
        .rejects.toMatchObject({ type: "CollectionNotFound", nonRetryable: true });
    }
    expect(await sql`SELECT document_count FROM vector_collections WHERE id = ${collectionId}`).toEqual(before);
  });
});
