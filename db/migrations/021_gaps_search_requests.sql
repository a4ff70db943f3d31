-- Searches the API registered (issue 10 property 3): the worker serves a `searchCollection` workflow only when
-- its id `weft-search-<id>` names a row here, for that row's tenant, collection and request, and only within the
-- first Temporal run that claimed it. Someone who reaches Temporal directly cannot start a search for another
-- tenant's collection, nor replay one the API made. Rows live for one search: the API deletes its row once
-- answered; rows an API process left behind (it died mid-search) are swept by age.
CREATE TABLE vector_search_requests (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  -- No foreign key: a collection deleted mid-search must still reach the worker, which then answers "not found"
  -- and drops its index.
  collection_id uuid NOT NULL,
  request jsonb NOT NULL,
  temporal_run_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vector_search_requests_created_idx ON vector_search_requests (created_at);
