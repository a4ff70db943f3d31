/** Vector collection schemas and routes: collections, document ingestion (202 + progress) and search. */
import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, errorResponses, ErrorSchema, jsonBody, jsonResponse, uuid } from "../openapi.ts";

export const CollectionSchema = z.object({
  id: z.string().uuid(),
  name: z.string(),
  description: z.string().nullable(),
  document_count: z.number().int().openapi({ description: "Documents searchable now (committed ingestions)" }),
  embedding_model: z.string().nullable().openapi({ description: "Set by the first ingestion" }),
  dimension: z.number().int().nullable(),
  created_at: z.string(),
}).openapi("VectorCollection");

export const CreateCollectionBody = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(10_000).optional(),
}).strict().openapi("CreateVectorCollection");

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const AddDocumentsBody = z.object({
  documents: z.array(
    z.object({
      text: z.string().min(1).max(100_000),
      metadata: z.record(z.string(), z.unknown()).optional(),
    }).strict(),
  ).min(1).max(1000),
}).strict().openapi("AddDocuments");

export const IngestionSchema = z.object({
  id: z.string().uuid(),
  collection_id: z.string().uuid(),
  status: z.enum(["pending", "embedding", "indexing", "succeeded", "failed"]),
  total: z.number().int(),
  embedded: z.number().int(),
  error: z.unknown(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
}).openapi("VectorIngestion");

export const SearchBody = z.object({
  query: z.string().min(1).max(100_000),
  top_k: z.number().int().min(1).max(1000).default(5),
  score_threshold: z.number().min(-1).max(1).optional().openapi({ description: "Minimum cosine similarity" }),
  filter: z.record(z.string(), z.union([scalar, z.object({ in: z.array(scalar).min(1).max(1000) }).strict()]))
    .optional().openapi({
      description: 'Metadata equality or membership: {"lang": "en", "year": {"in": [2025, 2026]}}',
    }),
}).strict().openapi("VectorSearch");

export const SearchResultsSchema = z.object({
  results: z.array(z.object({
    id: z.string().uuid(),
    text: z.string(),
    score: z.number(),
    metadata: z.record(z.string(), z.unknown()),
  })),
}).openapi("VectorSearchResults");

const CollectionParams = z.object({ id: uuid.openapi({ param: { name: "id", in: "path" } }) });
const IngestionParams = CollectionParams.extend({
  ingestion_id: uuid.openapi({ param: { name: "ingestion_id", in: "path" } }),
});

const tags = ["vectors"];
const security = bearerSecurity;
const conflict = { 409: jsonResponse("Conflict", ErrorSchema) };
const unavailable = { 503: jsonResponse("The GPU workers or Temporal are unavailable", ErrorSchema) };

export const listCollectionsRoute = createRoute({
  method: "get",
  path: "/api/vectors/collections",
  tags,
  security,
  summary: "Your vector collections, oldest first",
  responses: {
    200: jsonResponse("The collections", z.object({ items: z.array(CollectionSchema) })),
    ...errorResponses,
  },
});

export const createCollectionRoute = createRoute({
  method: "post",
  path: "/api/vectors/collections",
  tags,
  security,
  summary: "Create a vector collection (names are unique per user)",
  request: jsonBody(CreateCollectionBody),
  responses: { 201: jsonResponse("The collection", CollectionSchema), ...conflict, ...errorResponses },
});

export const getCollectionRoute = createRoute({
  method: "get",
  path: "/api/vectors/collections/{id}",
  tags,
  security,
  summary: "One collection",
  request: { params: CollectionParams },
  responses: { 200: jsonResponse("The collection", CollectionSchema), ...errorResponses },
});

export const deleteCollectionRoute = createRoute({
  method: "delete",
  path: "/api/vectors/collections/{id}",
  tags,
  security,
  summary: "Delete a collection with its documents (its index files are dropped by the workers)",
  request: { params: CollectionParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses },
});

export const addDocumentsRoute = createRoute({
  method: "post",
  path: "/api/vectors/collections/{id}/documents",
  tags,
  security,
  summary: "Add documents: embedded and indexed by a durable ingestion on the GPU queue (202; poll the ingestion)",
  request: { params: CollectionParams, ...jsonBody(AddDocumentsBody) },
  responses: {
    202: jsonResponse(
      "The ingestion was accepted",
      z.object({ ingestion_id: z.string().uuid(), status: z.literal("pending"), total: z.number().int() }),
    ),
    ...unavailable,
    ...errorResponses,
  },
});

export const getIngestionRoute = createRoute({
  method: "get",
  path: "/api/vectors/collections/{id}/ingestions/{ingestion_id}",
  tags,
  security,
  summary: "An ingestion's progress: status and documents embedded so far",
  request: { params: IngestionParams },
  responses: { 200: jsonResponse("The ingestion", IngestionSchema), ...errorResponses },
});

export const searchRoute = createRoute({
  method: "post",
  path: "/api/vectors/collections/{id}/search",
  tags,
  security,
  summary: "The top_k documents nearest the query (cosine similarity) that pass the filter and threshold",
  request: { params: CollectionParams, ...jsonBody(SearchBody) },
  responses: {
    200: jsonResponse("The results, best first", SearchResultsSchema),
    ...conflict,
    ...unavailable,
    ...errorResponses,
  },
});
