/**
 * Issue 10 property 3 for searches, as an attack: someone who reaches Temporal directly (a second user, t.bob)
 * starts `searchCollection` workflows for alice's collection. The worker serves only searches the API registered
 * (migration 021, activities/vector/ingest.ts): unregistered ids, forged requests under a registered id, and a
 * replay of a search the API already made are refused before anything is read. Real API, Temporal, worker and
 * embedding model.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { call } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";
import { WorkflowFailedError } from "../temporal/client.ts";

let collectionId: string;
const SECRET_TEXT = "alice-private-document-marker";
/** The GPU queue the test stack's worker polls (the API's default WEFT_GPU_TASK_QUEUE). */
const GPU_QUEUE = "weft-gpu";
/** Whether any result of a search (top 2 of alice's 2 documents) is alice's private one. */
const findsSecret = (result: unknown) =>
  (result as { results: { text: string }[] }).results.some((r) => r.text.includes(SECRET_TEXT));

const t = useApiHarness({ names: ["search-alice", "search-bob"] });
beforeAll(async () => {
  const created = await call(t.app, "POST", "/api/vectors/collections", {
    token: t.alice.token,
    body: { name: `search-binding-${Date.now()}` },
  });
  collectionId = created.body.id;
  const ingestion = await t.ingest(collectionId, [{ text: `${SECRET_TEXT} about invoices` }, {
    text: "a second document",
  }]);
  expect(ingestion.status).toBe("succeeded");
}, 90_000);

/** Starts a search straight through Temporal, as someone with Temporal access would; its failure or result. */
function startDirectly(workflowId: string, args: Record<string, unknown>) {
  return t.temporalHttp.executeWorkflow("searchCollection", {
    workflowId,
    taskQueue: GPU_QUEUE,
    args: [args],
    executionTimeout: "30s",
  }).then((result) => ({ result, failure: null }), (err) => ({ result: null, failure: err }));
}

/** The failure's types and messages, innermost included: what the attacker learns. */
function failureText(err: unknown) {
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const parts: string[] = [];
  for (let f = (err as WorkflowFailedError).failure; f; f = f.cause) parts.push(`${f.type ?? ""}: ${f.message}`);
  return parts.join("\n");
}

const registrations = async () =>
  (await t.sql`SELECT id, temporal_run_id FROM vector_search_requests WHERE tenant_id = ${t.alice.id}
    ORDER BY id`).map((r) => ({ ...r }));

describe("search workflows are bound to the search the API registered", () => {
  it("alice's search through the API works and leaves no registration behind", async () => {
    const res = await call(t.app, "POST", `/api/vectors/collections/${collectionId}/search`, {
      token: t.alice.token,
      body: { query: "invoices", top_k: 2 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(findsSecret(res.body)).toBe(true);
    expect(await registrations()).toEqual([]);
  });

  it("refuses a search for alice's collection started straight through Temporal, and reads nothing", async () => {
    const before = await registrations();
    const args = { collectionId, ownerId: t.alice.id, query: "invoices", top_k: 2 };
    for (const workflowId of [`weft-search-${crypto.randomUUID()}`, `weft-search-bob-${Date.now()}`]) {
      const { result, failure } = await startDirectly(workflowId, args);
      expect(result).toBeNull();
      const text = failureText(failure);
      expect(text).toContain("RunNotAuthorized");
      expect(text).not.toContain(SECRET_TEXT);
    }
    expect(await registrations()).toEqual(before);
    // Bob's own API still cannot see alice's collection either (404, the REST boundary).
    const viaApi = await call(t.app, "POST", `/api/vectors/collections/${collectionId}/search`, {
      token: t.bob.token,
      body: { query: "invoices", top_k: 1 },
    });
    expect(viaApi.status).toBe(404);
  });

  it("refuses a forged request under a registered id without spoiling the registered search", async () => {
    // A search the API registered for alice (as searchOnGpu does), still waiting for its workflow.
    const searchId = crypto.randomUUID();
    const request = { query: "invoices", top_k: 2 };
    await t.sql`INSERT INTO vector_search_requests (id, tenant_id, collection_id, request)
      VALUES (${searchId}, ${t.alice.id}, ${collectionId}, ${t.sql.json(request)})`;
    const workflowId = `weft-search-${searchId}`;
    try {
      // Bob races the API under its id with another query, or names himself as the owner: refused, unclaimed.
      for (
        const forged of [
          { collectionId, ownerId: t.alice.id, query: "anything else", top_k: 2 },
          { collectionId, ownerId: t.bob.id, ...request },
        ]
      ) {
        const { failure } = await startDirectly(workflowId, forged);
        expect(failureText(failure)).toContain("RunNotAuthorized");
      }
      // Forged starts claim nothing: the API's own start under that id still gets its answer.
      const [{ temporal_run_id: claimedBy }] = await t.sql`SELECT temporal_run_id FROM vector_search_requests
        WHERE id = ${searchId}`;
      expect(claimedBy).toBeNull();
      const served = await startDirectly(workflowId, { collectionId, ownerId: t.alice.id, ...request });
      expect(served.failure).toBeNull();
      expect(findsSecret(served.result)).toBe(true);
    } finally {
      await t.sql`DELETE FROM vector_search_requests WHERE id = ${searchId}`;
    }
  });

  it("serves a registered search once: the run that claimed it answers, a second start under its id does not", async () => {
    const searchId = crypto.randomUUID();
    const request = { query: "invoices", top_k: 2 };
    await t.sql`INSERT INTO vector_search_requests (id, tenant_id, collection_id, request)
      VALUES (${searchId}, ${t.alice.id}, ${collectionId}, ${t.sql.json(request)})`;
    const workflowId = `weft-search-${searchId}`;
    try {
      const served = await startDirectly(workflowId, { collectionId, ownerId: t.alice.id, ...request });
      expect(served.failure).toBeNull();
      expect(findsSecret(served.result)).toBe(true);
      const replay = await startDirectly(workflowId, { collectionId, ownerId: t.alice.id, ...request });
      expect(replay.result).toBeNull();
      const text = failureText(replay.failure);
      expect(text).toContain("RunNotAuthorized");
      expect(text).not.toContain(SECRET_TEXT);
    } finally {
      await t.sql`DELETE FROM vector_search_requests WHERE id = ${searchId}`;
    }
  });
});
