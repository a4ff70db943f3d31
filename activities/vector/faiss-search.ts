/** The faiss_search node: nearest documents in one of the run owner's collections, named by name or id. */
import { faissSearchConfigSchema } from "../../core/node-types.ts";
import { nonRetryable } from "../errors.ts";
import { type Collection, COLLECTION_COLUMNS, searchDocuments, type SearchResult, type VectorDeps } from "./search.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createFaissSearch(deps: VectorDeps) {
  const { sql } = deps;
  return async function faissSearch(
    prepared: Record<string, unknown>,
    meta: { runId: string },
  ): Promise<{ results: SearchResult[] }> {
    const query = typeof prepared.query === "string" ? prepared.query : JSON.stringify(prepared.query ?? null);
    const parsed = faissSearchConfigSchema.safeParse({ ...prepared, query, collection: String(prepared.collection) });
    if (!parsed.success) {
      throw nonRetryable(
        "InvalidConfig",
        parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
      );
    }
    const config = parsed.data;
    const byId = UUID.test(config.collection);
    const columns = sql.unsafe(COLLECTION_COLUMNS.split(", ").map((c) => `c.${c}`).join(", "));
    // Only the collections of the run's workspace: a workflow cannot read another tenant's documents.
    const [collection] = await sql`SELECT ${columns} FROM vector_collections c
      JOIN workflow_runs r ON r.workspace_id = c.workspace_id
      WHERE r.id = ${meta.runId} AND ${
      byId ? sql`c.id = ${config.collection}::uuid` : sql`c.name = ${config.collection}`
    }`;
    if (!collection) throw nonRetryable("CollectionNotFound", `no collection "${config.collection}"`);
    const results = await searchDocuments(deps, collection as Collection, {
      query: config.query,
      top_k: config.top_k,
      score_threshold: config.score_threshold,
      filter: config.filter,
    });
    return { results };
  };
}
