-- Retention (activities/runs/retention.ts) finds finished runs past WEFT_RUN_RETENTION_DAYS oldest first.
CREATE INDEX IF NOT EXISTS workflow_runs_created_idx ON workflow_runs (created_at);
