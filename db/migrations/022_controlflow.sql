-- Control flow (issue 13): runs started by other runs, error workflows and map items.

-- A run started by a sub_workflow or map node of another run, or as that workflow's error workflow.
ALTER TABLE workflow_runs ADD COLUMN parent_run_id uuid REFERENCES workflow_runs (id) ON DELETE SET NULL;
ALTER TABLE workflow_runs ADD COLUMN parent_node text;
CREATE INDEX workflow_runs_parent_idx ON workflow_runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
ALTER TABLE workflow_runs DROP CONSTRAINT workflow_runs_trigger_check;
ALTER TABLE workflow_runs ADD CONSTRAINT workflow_runs_trigger_check
  CHECK (trigger IN ('manual', 'webhook', 'schedule', 'retry', 'sub_workflow', 'map', 'error'));

-- The workflow whose run starts when a run of this one fails (never itself; a deleted one stops being called).
ALTER TABLE workflows ADD COLUMN error_workflow_id uuid REFERENCES workflows (id) ON DELETE SET NULL
  CHECK (error_workflow_id <> id);

-- One row per item of a map node: the node's execution shows counts, these the items (…/nodes/{name}/items).
CREATE TABLE map_items (
  run_id uuid NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
  node_id uuid NOT NULL,
  index integer NOT NULL CHECK (index >= 0),
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
  attempts integer NOT NULL DEFAULT 0,
  item jsonb,
  output jsonb,
  error jsonb,
  -- A map over a workflow: the child run of this item.
  child_run_id uuid,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, node_id, index)
);
CREATE INDEX map_items_status_idx ON map_items (run_id, node_id, status, index);
