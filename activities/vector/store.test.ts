/** The vector store against real FAISS and PostgreSQL, on random unit vectors checked by brute force. */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Sql } from "../../db/client.ts";
import { TEST_DATABASE_URL } from "../../test/env.ts";
import type { VectorConfig } from "./config.ts";
import { toBytes } from "./embeddings.ts";
import { matchesFilter, type MetadataFilter } from "./filter.ts";
import { type CollectionRow, VectorStore } from "./store.ts";

const D = 32;
let sql: Sql;
let ownerId: string;
let dir: string;
const config = (over: Partial<VectorConfig> = {}): VectorConfig => ({
  indexDir: dir,
  hnswThreshold: 100_000,
  embedBatchSize: 32,
  ...over,
});

/** A seeded generator, so a failure reproduces. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function unitVectors(n: number, random: () => number): Float32Array[] {
  return Array.from({ length: n }, () => {
    const v = Float32Array.from({ length: D }, () => random() * 2 - 1);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

interface Doc {
  vector: Float32Array;
  metadata: Record<string, unknown>;
}

/** Commits documents the way an ingestion does: positions after the current count, then the count. */
async function commit(collectionId: string, docs: Doc[]): Promise<CollectionRow> {
  return await sql.begin(async (tx) => {
    const [c] = await tx`SELECT document_count FROM vector_collections WHERE id = ${collectionId} FOR UPDATE`;
    const ingestionId = crypto.randomUUID();
    await tx`INSERT INTO vector_ingestions (id, collection_id, total, status) VALUES (${ingestionId}, ${collectionId},
      ${docs.length}, 'succeeded')`;
    const start = c.document_count as number;
    const rows = docs.map((d, i) => ({
      collection_id: collectionId,
      ingestion_id: ingestionId,
      ordinal: i,
      position: start + i,
      text: `doc ${start + i}`,
      metadata: d.metadata,
      embedding: toBytes(d.vector),
    }));
    for (let i = 0; i < rows.length; i += 1000) {
      await tx`INSERT INTO vector_documents ${tx(rows.slice(i, i + 1000) as never)}`;
    }
    const [row] = await tx`UPDATE vector_collections SET document_count = document_count + ${docs.length},
      dimension = ${D} WHERE id = ${collectionId} RETURNING id, dimension, document_count`;
    return row as unknown as CollectionRow;
  });
}

async function newCollection(): Promise<string> {
  const [row] = await sql`INSERT INTO vector_collections (owner_id, name) VALUES (${ownerId}, ${crypto.randomUUID()})
    RETURNING id`;
  return row.id as string;
}

function bruteForce(docs: Doc[], q: Float32Array, k: number, filter?: MetadataFilter, threshold?: number) {
  return docs
    .map((d, position) => ({ position, score: d.vector.reduce((s, x, j) => s + x * q[j], 0), m: d.metadata }))
    .filter((h) => (!filter || matchesFilter(h.m, filter)) && (threshold === undefined || h.score >= threshold))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

beforeAll(async () => {
  sql = connect(TEST_DATABASE_URL, { max: 4 });
  const [user] = await sql`INSERT INTO users (email, password_hash) VALUES (${`vectors-${crypto.randomUUID()}@x.test`},
    'x') RETURNING id`;
  ownerId = user.id as string;
  dir = mkdtempSync(join(tmpdir(), "weft-indexes-"));
});

afterAll(async () => {
  await sql.end();
  rmSync(dir, { recursive: true, force: true });
});

describe("vector store", () => {
  const random = rng(42);
  const docs: Doc[] = unitVectors(3000, random).map((vector, i) => ({
    vector,
    metadata: { lang: ["en", "fr", "de"][i % 3], bucket: i % 10, rare: i % 97 === 0 },
  }));
  const queries = unitVectors(25, random);
  let id: string;
  let row: CollectionRow;

  beforeAll(async () => {
    id = await newCollection();
    row = await commit(id, docs);
  });

  it("returns the true nearest neighbours (brute force over the same vectors)", async () => {
    const store = new VectorStore(sql, config());
    const state = await store.current(row);
    expect(state.kind).toBe("flat");
    for (const q of queries) {
      const hits = store.search(state, q, { topK: 10 });
      const truth = bruteForce(docs, q, 10);
      expect(hits.map((h) => h.position)).toEqual(truth.map((t) => t.position));
      hits.forEach((h, i) => expect(h.score).toBeCloseTo(truth[i].score, 4));
    }
  });

  it("applies filters before top_k (equality, `in`, a rare match) and honours the score threshold", async () => {
    const store = new VectorStore(sql, config());
    const state = await store.current(row);
    const filters: MetadataFilter[] = [{ lang: "fr" }, { bucket: { in: [1, 7] } }, { rare: true }, { lang: "xx" }];
    for (const filter of filters) {
      for (const q of queries.slice(0, 5)) {
        const hits = store.search(state, q, { topK: 10, filter });
        const truth = bruteForce(docs, q, 10, filter);
        expect(hits.map((h) => h.position)).toEqual(truth.map((t) => t.position));
        for (const h of hits) expect(matchesFilter(h.metadata, filter)).toBe(true);
      }
    }
    // The rare filter matches 31 documents, far outside the unfiltered top 10: still 10 results.
    expect(store.search(state, queries[0], { topK: 10, filter: { rare: true } })).toHaveLength(10);
    const hits = store.search(state, queries[1], { topK: 50, scoreThreshold: 0.3 });
    expect(hits.map((h) => h.position)).toEqual(
      bruteForce(docs, queries[1], 50, undefined, 0.3).map((t) => t.position),
    );
    for (const h of hits) expect(h.score).toBeGreaterThanOrEqual(0.3);
  });

  it("persists, reloads after a restart, rebuilds a missing file and catches up a stale one", async () => {
    const first = new VectorStore(sql, config());
    await first.current(row);
    await first.persist(id);
    expect(readdirSync(dir)).toContain(`${id}.flat.faiss`);
    const expected = queries.map((q) => bruteForce(docs, q, 5).map((t) => t.position));

    const logs: string[] = [];
    const restarted = new VectorStore(sql, config(), (msg) => logs.push(msg));
    const reloaded = await restarted.current(row);
    expect(logs).toEqual(["vector index loaded"]);
    expect(queries.map((q) => restarted.search(reloaded, q, { topK: 5 }).map((h) => h.position))).toEqual(expected);

    rmSync(join(dir, `${id}.flat.faiss`));
    const rebuiltLogs: string[] = [];
    const rebuilt = new VectorStore(sql, config(), (msg) => rebuiltLogs.push(msg));
    const fresh = await rebuilt.current(row);
    expect(rebuiltLogs).toEqual(["vector index rebuilt from PostgreSQL"]);
    expect(queries.map((q) => rebuilt.search(fresh, q, { topK: 5 }).map((h) => h.position))).toEqual(expected);
    await rebuilt.persist(id);

    // More documents committed after the file was written: the file is stale and is caught up, not rebuilt.
    const more = unitVectors(200, rng(7)).map((vector) => ({ vector, metadata: { lang: "en" } }));
    const grown = await commit(id, more);
    const all = [...docs, ...more];
    const staleLogs: string[] = [];
    const stale = new VectorStore(sql, config(), (msg) => staleLogs.push(msg));
    const caughtUp = await stale.current(grown);
    expect(staleLogs).toEqual(["vector index loaded", "vector index caught up"]);
    expect(caughtUp.count).toBe(3200);
    for (const q of queries) {
      expect(stale.search(caughtUp, q, { topK: 5 }).map((h) => h.position)).toEqual(
        bruteForce(all, q, 5).map((t) => t.position),
      );
    }
    docs.push(...more);
    row = grown;
  });

  it("switches to HNSW above the threshold with high recall", async () => {
    const store = new VectorStore(sql, config({ hnswThreshold: 1000 }));
    const state = await store.current(row);
    expect(state.kind).toBe("hnsw");
    let found = 0;
    for (const q of queries) {
      const truth = new Set(bruteForce(docs, q, 10).map((t) => t.position));
      found += store.search(state, q, { topK: 10 }).filter((h) => truth.has(h.position)).length;
    }
    expect(found / (queries.length * 10)).toBeGreaterThan(0.9);
    await store.persist(id);
    expect(readdirSync(dir).filter((f) => f.startsWith(id))).toEqual([`${id}.hnsw.faiss`]);
  });

  it("never shows a search a half-written index while commits land concurrently", async () => {
    const cid = await newCollection();
    const base = unitVectors(500, rng(3)).map((vector) => ({ vector, metadata: {} }));
    let current = await commit(cid, base);
    const store = new VectorStore(sql, config());
    const q = base[0].vector;
    const seen: number[] = [];
    const batches = Array.from({ length: 5 }, (_, i) => unitVectors(100, rng(100 + i)));
    const writer = (async () => {
      for (const batch of batches) {
        current = await commit(cid, batch.map((vector) => ({ vector, metadata: {} })));
        await store.current(current);
      }
    })();
    const reader = (async () => {
      for (let i = 0; i < 40; i++) {
        const state = await store.current(current);
        // Every search sees a whole number of committed batches, and the best match is always there.
        expect((state.count - 500) % 100).toBe(0);
        const hits = store.search(state, q, { topK: 3 });
        expect(hits[0].position).toBe(0);
        seen.push(state.count);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await Promise.all([writer, reader]);
    expect((await store.current(current)).count).toBe(1000);
    expect(seen.at(-1)).toBeGreaterThanOrEqual(500);
  });

  it("forgets a dropped collection's files", async () => {
    const store = new VectorStore(sql, config());
    await store.drop(id);
    expect(readdirSync(dir).filter((f) => f.startsWith(id))).toEqual([]);
  });
});
