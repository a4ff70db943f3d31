-- Resources belong to their workspace, no longer to a person (issue 12). owner_id stays as who created the
-- workflow, secret or collection, or started the run or schedule: NULL when that was an API key, a webhook or a
-- schedule, or once that person's account is gone. Deleting an account deletes its personal workspace (and
-- what is in it) and its memberships; what it made in team workspaces stays with the team.
ALTER TABLE workflows ALTER COLUMN owner_id DROP NOT NULL;
ALTER TABLE workflows DROP CONSTRAINT workflows_owner_id_fkey;
ALTER TABLE workflows ADD CONSTRAINT workflows_owner_id_fkey
  FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE SET NULL;

ALTER TABLE workflow_runs ALTER COLUMN owner_id DROP NOT NULL;
ALTER TABLE workflow_runs DROP CONSTRAINT workflow_runs_owner_id_fkey;
ALTER TABLE workflow_runs ADD CONSTRAINT workflow_runs_owner_id_fkey
  FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE SET NULL;

ALTER TABLE workflow_schedules ALTER COLUMN owner_id DROP NOT NULL;
ALTER TABLE workflow_schedules DROP CONSTRAINT workflow_schedules_owner_id_fkey;
ALTER TABLE workflow_schedules ADD CONSTRAINT workflow_schedules_owner_id_fkey
  FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE SET NULL;

-- Names are unique per workspace (030 added those constraints), no longer per person.
ALTER TABLE secrets ALTER COLUMN owner_id DROP NOT NULL;
ALTER TABLE secrets DROP CONSTRAINT secrets_owner_id_name_key;
ALTER TABLE secrets DROP CONSTRAINT secrets_owner_id_fkey;
ALTER TABLE secrets ADD CONSTRAINT secrets_owner_id_fkey
  FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE SET NULL;

ALTER TABLE vector_collections ALTER COLUMN owner_id DROP NOT NULL;
ALTER TABLE vector_collections DROP CONSTRAINT vector_collections_owner_id_name_key;
ALTER TABLE vector_collections DROP CONSTRAINT vector_collections_owner_id_fkey;
ALTER TABLE vector_collections ADD CONSTRAINT vector_collections_owner_id_fkey
  FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE SET NULL;

-- Idempotency keys: per workspace and actor (030's unique index becomes the key).
ALTER TABLE run_idempotency_keys DROP CONSTRAINT run_idempotency_keys_pkey;
ALTER TABLE run_idempotency_keys ALTER COLUMN owner_id DROP NOT NULL;
ALTER TABLE run_idempotency_keys DROP CONSTRAINT run_idempotency_keys_owner_id_fkey;
ALTER TABLE run_idempotency_keys ADD CONSTRAINT run_idempotency_keys_owner_id_fkey
  FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE run_idempotency_keys ADD CONSTRAINT run_idempotency_keys_pkey
  PRIMARY KEY USING INDEX run_idempotency_keys_actor_key;

-- GET /api/runs lists a workspace's runs (030 added the index); the per-owner one is no longer read.
DROP INDEX IF EXISTS workflow_runs_owner_created_idx;
