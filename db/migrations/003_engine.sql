-- The durable engine: failure policy, run triggers, re-runs, idempotency keys, waiting runs and nodes.
ALTER TABLE workflows ADD COLUMN on_failure text NOT NULL DEFAULT 'fail_fast'
  CHECK (on_failure IN ('fail_fast', 'continue'));

ALTER TABLE workflow_runs ADD COLUMN trigger text NOT NULL DEFAULT 'manual'
  CHECK (trigger IN ('manual', 'webhook', 'schedule', 'retry'));
ALTER TABLE workflow_runs ADD COLUMN retry_of uuid REFERENCES workflow_runs (id) ON DELETE SET NULL;
ALTER TABLE workflow_runs DROP CONSTRAINT workflow_runs_status_check;
ALTER TABLE workflow_runs ADD CONSTRAINT workflow_runs_status_check
  CHECK (status IN ('pending', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'));

ALTER TABLE node_executions DROP CONSTRAINT node_executions_status_check;
ALTER TABLE node_executions ADD CONSTRAINT node_executions_status_check
  CHECK (status IN ('running', 'waiting', 'succeeded', 'failed', 'cancelled', 'skipped', 'reused'));

CREATE TABLE run_idempotency_keys (
  owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key text NOT NULL,
  workflow_id uuid NOT NULL,
  run_id uuid NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner_id, key)
);
