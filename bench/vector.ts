/**
 * `node --import tsx bench/vector.ts [N=100000] [QUERIES=200] [ROUNDS=3]`: vector search over N × 384 random unit
 * vectors through Weft's vector store (activities/vector/store.ts) vs raw faiss-node on the same vectors in the
 * same run, vs a brute-force JS loop; plus what ingestion costs: PostgreSQL writes, index builds from
 * PostgreSQL, the array conversion faiss-node needs, and persisting/reloading index files.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toBytes } from "../activities/vector/embeddings.ts";
import { faiss, toPlainArray, VectorStore } from "../activities/vector/store.ts";
import { benchDatabase, benchUser, median } from "./ai-db.ts";

const N = Number(process.argv[2] ?? 100_000);
const QUERIES = Number(process.argv[3] ?? 200);
const ROUNDS = Number(process.argv[4] ?? 3);
const D = 384;
const K = 10;

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function unitVectors(n: number, seed: number): Float32Array {
  const random = seeded(seed);
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let j = 0; j < D; j++) norm += (out[i * D + j] = random() * 2 - 1) ** 2;
    norm = Math.sqrt(norm);
    for (let j = 0; j < D; j++) out[i * D + j] /= norm;
  }
  return out;
}

const time = <T>(fn: () => T): [T, number] => {
  const t0 = performance.now();
  const value = fn();
  return [value, performance.now() - t0];
};
const timeAsync = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const value = await fn();
  return [value, performance.now() - t0];
};

const vectors = unitVectors(N, 1);
const queries = Array.from({ length: QUERIES }, (_, i) => unitVectors(1, 1000 + i));
const rows: Record<string, string | number>[] = [];
const say = (what: string, value: string | number, note = "") => {
  rows.push({ what, value, note });
  console.log(`${what}: ${value} ${note}`);
};

// Raw faiss-node: the one conversion it needs (plain arrays), then add.
const lib = faiss();
// The store converts and adds 10,000 vectors at a time: one array of N × 384 numbers is far slower to build.
const chunks = (convert: (v: Float32Array) => number[]) => {
  for (let i = 0; i < N; i += 10_000) convert(vectors.subarray(i * D, Math.min(N, i + 10_000) * D));
};
const [, arrayFromMs] = time(() => chunks((v) => Array.from(v)));
const [, convertMs] = time(() => chunks(toPlainArray));
const [plain, wholeMs] = time(() => Array.from(vectors));
const raw = new lib.IndexFlatIP(D);
const [, addMs] = time(() => raw.add(plain));
// The same vectors converted and added 10,000 at a time, as the store does.
const chunked = new lib.IndexFlatIP(D);
const [, chunkedAddMs] = time(() =>
  chunks((v) => {
    const a = toPlainArray(v);
    chunked.add(a);
    return a;
  })
);
say("conversion Float32Array → number[]: Array.from, 10k vectors at a time", `${Math.round(arrayFromMs)} ms`);
say("conversion Float32Array → number[]: indexed loop, 10k at a time (Weft)", `${Math.round(convertMs)} ms`);
say("conversion Float32Array → number[]: Array.from on all N at once", `${Math.round(wholeMs)} ms`);
say("raw faiss-node: add to IndexFlatIP", `${Math.round(addMs)} ms`, `(${Math.round(N / (addMs / 1000))} vectors/s)`);
say(
  "raw faiss-node: convert + add 10k vectors at a time",
  `${Math.round(chunkedAddMs)} ms`,
  `(${Math.round(N / (chunkedAddMs / 1000))} vectors/s)`,
);

// Weft: documents with embeddings in PostgreSQL, then the store builds its index from them.
const db = await benchDatabase();
const { sql } = db;
const dir = mkdtempSync(join(tmpdir(), "weft-bench-indexes-"));
try {
  const owner = await benchUser(sql);
  const [collection] = await sql`INSERT INTO vector_collections (owner_id, name, dimension, embedding_model)
    VALUES (${owner}, 'bench', ${D}, 'random') RETURNING id`;
  const ingestionId = crypto.randomUUID();
  await sql`INSERT INTO vector_ingestions (id, collection_id, total, status)
    VALUES (${ingestionId}, ${collection.id}, ${N}, 'succeeded')`;
  const [, writeMs] = await timeAsync(async () => {
    for (let start = 0; start < N; start += 2000) {
      const chunk = Array.from({ length: Math.min(2000, N - start) }, (_, i) => ({
        collection_id: collection.id,
        ingestion_id: ingestionId,
        ordinal: start + i,
        position: start + i,
        text: `document ${start + i}`,
        metadata: { bucket: (start + i) % 10 },
        embedding: toBytes(vectors.subarray((start + i) * D, (start + i + 1) * D)),
      }));
      await sql`INSERT INTO vector_documents ${sql(chunk as never)}`;
    }
    await sql`UPDATE vector_collections SET document_count = ${N} WHERE id = ${collection.id}`;
  });
  say(
    "weft: write documents + embeddings to PostgreSQL",
    `${Math.round(writeMs)} ms`,
    `(${Math.round(N / (writeMs / 1000))} vectors/s)`,
  );

  const config = { indexDir: dir, hnswThreshold: Number.MAX_SAFE_INTEGER, embedBatchSize: 32 };
  const row = { id: collection.id as string, dimension: D, document_count: N };
  const store = new VectorStore(sql, config);
  const [state, buildMs] = await timeAsync(() => store.current(row));
  say(
    "weft: build index from PostgreSQL (read + convert + add)",
    `${Math.round(buildMs)} ms`,
    `(${Math.round(N / (buildMs / 1000))} vectors/s)`,
  );
  const [, persistMs] = await timeAsync(() => store.persist(row.id));
  say("weft: persist index file", `${Math.round(persistMs)} ms`);
  const [, reloadMs] = await timeAsync(() => new VectorStore(sql, config).current(row));
  say("weft: restart — load index file (+ ids/metadata from PostgreSQL)", `${Math.round(reloadMs)} ms`);

  // Same answers from both, then alternate rounds of timed searches.
  for (const q of queries.slice(0, 20)) {
    const a = raw.search(toPlainArray(q), K).labels;
    const b = store.search(state, q, { topK: K }).map((h) => h.position);
    if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error("weft and raw faiss-node disagree");
  }
  const rawQps: number[] = [];
  const weftQps: number[] = [];
  const filteredQps: number[] = [];
  const runRaw = () => {
    const [, ms] = time(() => {
      for (const q of queries) raw.search(toPlainArray(q), K);
    });
    rawQps.push(QUERIES / (ms / 1000));
  };
  const runWeft = () => {
    const [, ms] = time(() => {
      for (const q of queries) store.search(state, q, { topK: K });
    });
    weftQps.push(QUERIES / (ms / 1000));
  };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so warm-up and noise fall on both.
    if (round % 2 === 0) {
      runRaw();
      runWeft();
    } else {
      runWeft();
      runRaw();
    }
    const [, filteredMs] = time(() => {
      for (const q of queries) store.search(state, q, { topK: K, filter: { bucket: 3 } });
    });
    filteredQps.push(QUERIES / (filteredMs / 1000));
  }
  // Brute force in JS: a dot product with every vector, keeping the best K.
  const bruteQueries = queries.slice(0, Math.max(5, Math.floor(QUERIES / 10)));
  const [, bruteMs] = time(() => {
    for (const q of bruteQueries) {
      const best: [number, number][] = [];
      for (let i = 0; i < N; i++) {
        let s = 0;
        const o = i * D;
        for (let j = 0; j < D; j++) s += vectors[o + j] * q[j];
        if (best.length < K || s > best[best.length - 1][0]) {
          best.push([s, i]);
          best.sort((x, y) => y[0] - x[0]);
          if (best.length > K) best.pop();
        }
      }
    }
  });
  const bruteQps = bruteQueries.length / (bruteMs / 1000);
  const r = median(rawQps);
  const w = median(weftQps);
  say(`search k=${K}: raw faiss-node`, `${r.toFixed(1)} q/s`);
  say(`search k=${K}: weft VectorStore.search`, `${w.toFixed(1)} q/s`, `(time ratio ${(r / w).toFixed(3)}× raw)`);
  say(`search k=${K} with a 10% filter: weft`, `${median(filteredQps).toFixed(1)} q/s`);
  say(
    `search k=${K}: brute-force JS loop`,
    `${bruteQps.toFixed(1)} q/s`,
    `(${(r / bruteQps).toFixed(1)}× slower than raw)`,
  );
  writeFileSync(
    "bench/results/vector.json",
    JSON.stringify(
      { date: new Date().toISOString(), N, D, QUERIES, ROUNDS, rawQps, weftQps, filteredQps, bruteQps, rows },
      null,
      2,
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
  await db.close();
}
