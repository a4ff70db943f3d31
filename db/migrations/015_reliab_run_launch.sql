-- Runs whose workflow start may have been lost (the API died between inserting the run and starting it in
-- Temporal) are started again by the API's orphan sweeper (api/runs/orphans.ts). It needs what the start
-- carried besides the row's input and snapshot: the outputs a re-run reuses.
ALTER TABLE workflow_runs ADD COLUMN start_reuse jsonb;

-- The sweeper's question, cheap however many runs there are: pending runs Temporal has not confirmed.
CREATE INDEX workflow_runs_unlaunched_idx ON workflow_runs (created_at)
  WHERE status = 'pending' AND temporal_run_id IS NULL;
