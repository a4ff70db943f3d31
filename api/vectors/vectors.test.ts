/**
 * Vector collections through the API and a real GPU-queue worker (the fixture BERT encoder, real FAISS):
 * ingestion, exact nearest neighbours, filters and thresholds, concurrency, restarts, deletion, security,
 * and faiss_search in a RAG run (http_request → faiss_search → llm_call).
 */
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { modelConfigFromEnv } from "../../activities/models/config.ts";
import { ModelRegistry } from "../../activities/models/registry.ts";
import { buildWorkflow, call, json, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";
import { runSharedSecurityTests } from "../../test/security-suite.ts";

const TOPICS = ["capital", "weather", "animals", "workflows"] as const;
const SENTENCES = [
  "Paris is the capital of France.",
  "Tokyo is the capital of Japan.",
  "Rome is in Italy.",
  "The weather today is sunny with a light wind.",
  "Tomorrow it will rain.",
  "The quick brown fox jumps over the lazy dog.",
  "A cat sleeps in the warm sun.",
  "Weft runs durable AI workflows.",
  "Temporal keeps the workflow history.",
  "PostgreSQL keeps the runs and the documents.",
];
const DOCS = Array.from({ length: 40 }, (_, i) => ({
  text: `${SENTENCES[i % SENTENCES.length]} (${i})`,
  metadata: { topic: TOPICS[i % 4], i, even: i % 2 === 0 },
}));

const t = useApiHarness({
  gpu: true,
  upstream: (_req, _body, res) => json(res, 200, { question: "What is the capital of France?" }),
});

const api = (method: string, path: string, body?: unknown, token = t.alice.token) =>
  call(t.app, method, `/api/vectors/collections${path}`, { token, body });

async function ingest(collectionId: string, documents: unknown[]) {
  const res = await api("POST", `/${collectionId}/documents`, { documents });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.ingestion_id as string;
}

async function ingested(collectionId: string, ingestionId: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api("GET", `/${collectionId}/ingestions/${ingestionId}`);
    expect(res.status).toBe(200);
    if (res.body.status === "succeeded" || res.body.status === "failed") return res.body;
    if (Date.now() > deadline) throw new Error(`ingestion still ${res.body.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const search = (collectionId: string, body: Record<string, unknown>, token = t.alice.token) =>
  api("POST", `/${collectionId}/search`, body, token);

/** The nearest documents by brute force over embeddings computed here with the same fixture model. */
async function bruteForce(query: string, docs: { text: string }[], k: number) {
  const embedder = await new ModelRegistry(modelConfigFromEnv({}), () => {}).embedder();
  const d = embedder.dimension;
  const q = await embedder.embed([query]);
  const all = await embedder.embed(docs.map((doc) => doc.text));
  return docs
    .map((doc, i) => ({ text: doc.text, score: all.subarray(i * d, (i + 1) * d).reduce((s, x, j) => s + x * q[j], 0) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

let collection: string;

describe("collections", () => {
  it("creates, lists and reads the owner's collections; names are unique per owner", async () => {
    const created = await api("POST", "", { name: "kb", description: "knowledge base" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "kb", description: "knowledge base", document_count: 0 });
    collection = created.body.id;
    expect((await api("POST", "", { name: "kb" })).status).toBe(409);
    // Another user may use the same name.
    expect((await api("POST", "", { name: "kb" }, t.bob.token)).status).toBe(201);
    const list = await api("GET", "");
    expect(list.body.items.map((c: { id: string }) => c.id)).toEqual([collection]);
    expect((await api("GET", `/${collection}`)).body.name).toBe("kb");
  });

  it("rejects bad input with the fields named", async () => {
    const bad = await api("POST", "", { name: "", extra: 1 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error.details)).toMatch(/name/);
    expect(JSON.stringify(bad.body.error.details)).toMatch(/extra/);
    expect((await api("POST", `/${collection}/documents`, { documents: [] })).status).toBe(400);
    expect((await api("POST", `/${collection}/documents`, { documents: [{ text: "" }] })).status).toBe(400);
    expect((await search(collection, { query: "x", top_k: 0 })).status).toBe(400);
    expect((await search(collection, { query: "x", filter: { a: { nin: [1] } } })).status).toBe(400);
  });

  it("hides one user's collections from another (404) and requires a token (401)", async () => {
    const ingestionId = await ingest(collection, DOCS);
    for (
      const [method, path, body] of [
        ["GET", `/${collection}`],
        ["DELETE", `/${collection}`],
        ["POST", `/${collection}/documents`, { documents: [{ text: "x" }] }],
        ["GET", `/${collection}/ingestions/${ingestionId}`],
        ["POST", `/${collection}/search`, { query: "x" }],
      ] as const
    ) {
      expect((await api(method, path, body, t.bob.token)).status, `${method} ${path}`).toBe(404);
      expect((await call(t.app, method, `/api/vectors/collections${path}`, { body })).status).toBe(401);
    }
    expect((await api("GET", "", undefined, t.bob.token)).body.items).toHaveLength(1);
    const done = await ingested(collection, ingestionId);
    expect(done).toMatchObject({ status: "succeeded", total: 40, embedded: 40 });
  });
});

describe("ingestion and search", () => {
  it("finds the true nearest neighbours (brute force with the same model) and each document itself first", async () => {
    const info = await api("GET", `/${collection}`);
    expect(info.body).toMatchObject({ document_count: 40, embedding_model: "tiny-bert-encoder", dimension: 32 });
    for (const query of ["What is the capital of France?", "rain and wind", DOCS[7].text]) {
      const res = await search(collection, { query, top_k: 5 });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const truth = await bruteForce(query, DOCS, 5);
      expect(res.body.results.map((r: { text: string }) => r.text)).toEqual(truth.map((r) => r.text));
      res.body.results.forEach((r: { score: number }, i: number) => expect(r.score).toBeCloseTo(truth[i].score, 4));
    }
    const self = await search(collection, { query: DOCS[7].text, top_k: 1 });
    expect(self.body.results[0]).toMatchObject({ text: DOCS[7].text, metadata: DOCS[7].metadata });
    expect(self.body.results[0].score).toBeCloseTo(1, 4);
  });

  it("filters by metadata equality and `in` before taking top_k, and applies the score threshold", async () => {
    // Weather documents are those with i % 4 === 1, all odd: both conditions must hold.
    const none = await search(collection, { query: "capital", top_k: 7, filter: { topic: "weather", even: true } });
    expect(none.body.results).toHaveLength(0);
    const weather = await search(collection, { query: "capital", top_k: 7, filter: { topic: "weather" } });
    expect(weather.body.results).toHaveLength(7);
    for (const r of weather.body.results) expect(r.metadata.topic).toBe("weather");
    const truth = await bruteForce("capital", DOCS.filter((d) => d.metadata.topic === "weather"), 7);
    expect(weather.body.results.map((r: { text: string }) => r.text)).toEqual(truth.map((r) => r.text));
    const some = await search(collection, { query: "capital", top_k: 40, filter: { i: { in: [3, 5, 39, 99] } } });
    expect(some.body.results.map((r: { metadata: { i: number } }) => r.metadata.i).sort()).toEqual([3, 39, 5]);
    const all = await search(collection, { query: "sunny weather", top_k: 40 });
    const cut = all.body.results[9].score;
    const above = await search(collection, { query: "sunny weather", top_k: 40, score_threshold: cut });
    expect(above.body.results.length).toBeGreaterThanOrEqual(10);
    for (const r of above.body.results) expect(r.score).toBeGreaterThanOrEqual(cut);
  });

  it("serialises concurrent ingestions into one collection while searches keep answering", async () => {
    const batches = Array.from(
      { length: 4 },
      (_, b) =>
        Array.from({ length: 25 }, (_, i) => ({ text: `batch ${b} document ${i} about the weather`, metadata: { b } })),
    );
    const ids = await Promise.all(batches.map((docs) => ingest(collection, docs)));
    const counts: number[] = [];
    const searching = (async () => {
      for (let i = 0; i < 10; i++) {
        const res = await search(collection, { query: DOCS[0].text, top_k: 3 });
        expect(res.status).toBe(200);
        // Whatever has been committed so far, the exact match stays first.
        expect(res.body.results[0].text).toBe(DOCS[0].text);
        counts.push((await api("GET", `/${collection}`)).body.document_count);
      }
    })();
    const results = await Promise.all(ids.map((id) => ingested(collection, id)));
    await searching;
    expect(results.map((r) => r.status)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
    // Every committed count is 40 plus whole batches: no search saw half an ingestion.
    for (const n of counts) expect((n - 40) % 25).toBe(0);
    // Each ingestion holds one contiguous range of positions: commits did not interleave.
    const ranges = await t.sql`SELECT ingestion_id, min(position) AS lo, max(position) AS hi, count(*)::int AS n
      FROM vector_documents WHERE collection_id = ${collection} GROUP BY ingestion_id ORDER BY lo`;
    expect(ranges.map((r) => r.hi - r.lo + 1)).toEqual(ranges.map((r) => r.n));
    expect(ranges.at(-1)!.hi).toBe(139);
    const found = await search(collection, { query: "batch 2 document 3 about the weather", top_k: 1 });
    expect(found.body.results[0].text).toBe("batch 2 document 3 about the weather");
  });

  it("answers the same after a worker restart (index files) and after losing its files (rebuilt)", async () => {
    const queries = ["What is the capital of France?", "a cat in the sun", "batch 1 document 9 about the weather"];
    const before = await Promise.all(queries.map((query) => search(collection, { query, top_k: 8 })));
    expect(readdirSync(t.gpu.indexDir)).toContain(`${collection}.flat.faiss`);

    await t.gpu.restart();
    const after = await Promise.all(queries.map((query) => search(collection, { query, top_k: 8 })));
    expect(after.map((r) => r.body)).toEqual(before.map((r) => r.body));
    expect(t.gpu.process().output()).toContain('"msg":"vector index loaded"');

    for (const f of readdirSync(t.gpu.indexDir)) rmSync(join(t.gpu.indexDir, f));
    await t.gpu.restart();
    const rebuilt = await Promise.all(queries.map((query) => search(collection, { query, top_k: 8 })));
    expect(rebuilt.map((r) => r.body)).toEqual(before.map((r) => r.body));
    expect(t.gpu.process().output()).toContain('"msg":"vector index rebuilt from PostgreSQL"');
    expect(t.gpu.process().output()).toMatch(/"msg":"model loaded".*"model":"tiny-bert-encoder","device":"cpu"/);
  });
});

describe("faiss_search in a run", () => {
  it("runs a RAG pipeline: http_request → faiss_search → llm_call", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [
      { name: "fetch", config: { url: `${t.upstream.url}/question`, retry: { max_attempts: 1 } } },
      {
        name: "search",
        type: "faiss_search",
        config: {
          collection: "kb",
          query: "{{nodes.fetch.output.body.question}}",
          top_k: 3,
          filter: { topic: { in: ["capital", "weather"] } },
        },
      },
      {
        name: "answer",
        type: "llm_call",
        config: {
          system: "Answer from the context.",
          prompt: "Context: {{nodes.search.output.results.0.text}}\nQuestion: {{nodes.fetch.output.body.question}}",
          max_tokens: 12,
        },
      },
    ]);
    const started = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
      token: t.alice.token,
      body: { input: {} },
    });
    const run = await waitForRun(t.app, t.alice.token, workflowId, started.body.run_id);
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded");
    const byName = Object.fromEntries(run.node_executions.map((e: { node_name: string }) => [e.node_name, e]));
    const results = byName.search.output.results;
    expect(results).toHaveLength(3);
    for (const r of results) expect(["capital", "weather"]).toContain(r.metadata.topic);
    const truth = await bruteForce(
      "What is the capital of France?",
      DOCS.filter((d) => ["capital", "weather"].includes(d.metadata.topic)),
      3,
    );
    expect(results.map((r: { text: string }) => r.text)).toEqual(truth.map((r) => r.text));
    expect(byName.answer.input.prompt).toBe(`Context: ${results[0].text}\nQuestion: What is the capital of France?`);
    expect(byName.answer.output.usage.completion_tokens).toBe(12);
    expect(run.usage).toEqual(byName.answer.output.usage);
  });

  it("cannot search another user's collection from a run", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.bob.token, [
      { name: "search", type: "faiss_search", config: { collection, query: "capital", retry: { max_attempts: 3 } } },
    ]);
    const started = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
      token: t.bob.token,
      body: { input: {} },
    });
    const run = await waitForRun(t.app, t.bob.token, workflowId, started.body.run_id);
    expect(run.status).toBe("failed");
    expect(run.node_executions).toHaveLength(1);
    expect(run.node_executions[0].error).toMatchObject({ type: "CollectionNotFound", retryable: false });
  });
});

describe("deletion", () => {
  it("deletes a collection with its documents; it is gone for search and ingestion", async () => {
    expect((await api("DELETE", `/${collection}`)).status).toBe(204);
    expect((await api("GET", `/${collection}`)).status).toBe(404);
    expect((await search(collection, { query: "capital" })).status).toBe(404);
    expect((await api("POST", `/${collection}/documents`, { documents: [{ text: "x" }] })).status).toBe(404);
    const [{ n }] = await t.sql`SELECT count(*)::int AS n FROM vector_documents WHERE collection_id = ${collection}`;
    expect(n).toBe(0);
  });
});

runSharedSecurityTests(
  t,
  "a vector collection",
  async (owner) => {
    const id = (await api("POST", "", { name: "owned" }, owner.token)).body.id as string;
    const ingestion = (await api("POST", `/${id}/documents`, { documents: [{ text: "x" }] }, owner.token)).body;
    await ingested(id, ingestion.ingestion_id);
    return { id, ingestion: ingestion.ingestion_id as string };
  },
  [
    { method: "GET", path: ({ id }) => `/api/vectors/collections/${id}` },
    { method: "DELETE", path: ({ id }) => `/api/vectors/collections/${id}` },
    {
      method: "POST",
      path: ({ id }) => `/api/vectors/collections/${id}/documents`,
      body: { documents: [{ text: "x" }] },
    },
    { method: "GET", path: ({ id, ingestion }) => `/api/vectors/collections/${id}/ingestions/${ingestion}` },
    { method: "POST", path: ({ id }) => `/api/vectors/collections/${id}/search`, body: { query: "x" } },
  ],
);
