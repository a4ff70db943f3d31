-- GET /api/runs lists a user's runs across workflows, newest first, paged by (created_at, id): one index scan.
CREATE INDEX IF NOT EXISTS workflow_runs_owner_created_idx ON workflow_runs (owner_id, created_at DESC, id DESC);
