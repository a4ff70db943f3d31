-- Vector collections: documents, their metadata and embeddings live here; each collection's FAISS index under a
-- worker's INDEX_DIR is a cache of these rows, rebuilt or caught up from them when missing or stale.
CREATE TABLE vector_collections (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name text NOT NULL,
  description text,
  -- Set by the first ingestion: the model that embeds this collection's documents and its queries.
  embedding_model text,
  dimension integer,
  -- Documents committed to the index hold positions 0 .. document_count - 1, in commit order.
  document_count integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (owner_id, name)
);

CREATE TABLE vector_ingestions (
  id uuid PRIMARY KEY,
  collection_id uuid NOT NULL REFERENCES vector_collections (id) ON DELETE CASCADE,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'embedding', 'indexing', 'succeeded', 'failed')),
  total integer NOT NULL,
  embedded integer NOT NULL DEFAULT 0,
  error jsonb,
  temporal_workflow_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX vector_ingestions_collection_idx ON vector_ingestions (collection_id, created_at);

CREATE TABLE vector_documents (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  collection_id uuid NOT NULL REFERENCES vector_collections (id) ON DELETE CASCADE,
  ingestion_id uuid NOT NULL REFERENCES vector_ingestions (id) ON DELETE CASCADE,
  -- Order within the ingestion; the position is document_count + ordinal when the ingestion commits.
  ordinal integer NOT NULL,
  position integer,
  text text NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}',
  -- float32 little-endian, dimension × 4 bytes; null until embedded.
  embedding bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (collection_id, position),
  UNIQUE (ingestion_id, ordinal)
);
