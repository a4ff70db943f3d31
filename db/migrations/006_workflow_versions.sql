-- Every version a run executed, kept immutable: the graph snapshot and its content hash.
CREATE TABLE workflow_versions (
  workflow_id uuid NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  version integer NOT NULL,
  hash text NOT NULL,
  snapshot jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, version)
);

INSERT INTO workflow_versions (workflow_id, version, hash, snapshot, created_at)
SELECT DISTINCT ON (workflow_id, workflow_version) workflow_id, workflow_version, version_hash, snapshot, created_at
FROM workflow_runs ORDER BY workflow_id, workflow_version, created_at;
