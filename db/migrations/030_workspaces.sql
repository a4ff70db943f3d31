-- Teams (issue 12): workspaces with members and roles, API keys for services, an append-only audit log, and a
-- workspace on everything a user owned.
--
-- A user's personal workspace has the user's own id. Every tenant Weft already keys by user id — payload data
-- keys (tenant_data_keys.tenant_id, bound into their wrapping and into every payload in Temporal's histories),
-- sandbox roles and schemas (db/sandbox.ts), the WeftOwnerId search attribute, the secrets' associated data
-- (core/secrets-crypto.ts binds `<tenant>:<name>`) — thereby already names the workspace that data moves into:
-- nothing sealed has to be unsealed, no sandbox schema renamed, no history re-encoded. New workspaces get new ids.

CREATE TABLE workspaces (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- The user this is the personal workspace of (then id = personal_of); it goes with its user.
  personal_of uuid UNIQUE REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (personal_of IS NULL OR personal_of = id)
);

-- Roles, each including the one before: viewer < operator < editor < admin < owner (api/workspaces/roles.ts).
CREATE TABLE workspace_members (
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('viewer', 'operator', 'editor', 'admin', 'owner')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user_idx ON workspace_members (user_id, workspace_id);

-- Service credentials: `weft_<random>` shown once; only its SHA-256 is kept. A key outlives its creator's
-- membership (created_by is kept for the record, not for authorisation) until it is revoked or expires.
CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  role text NOT NULL CHECK (role IN ('viewer', 'operator', 'editor', 'admin', 'owner')),
  prefix text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_keys_workspace_idx ON api_keys (workspace_id, created_at DESC);

-- Any change to who may do what — a membership, a key, a workspace — is announced at commit on
-- `weft_access_changed` (payload: the workspace id), so every API process drops what it cached at once.
CREATE FUNCTION weft_notify_access_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed uuid;
BEGIN
  IF TG_TABLE_NAME = 'workspaces' THEN
    changed := OLD.id;
  ELSIF TG_OP = 'DELETE' THEN
    changed := OLD.workspace_id;
  ELSE
    changed := NEW.workspace_id;
  END IF;
  PERFORM pg_notify('weft_access_changed', changed::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER workspaces_access_changed AFTER UPDATE OR DELETE ON workspaces
  FOR EACH ROW EXECUTE FUNCTION weft_notify_access_changed();
CREATE TRIGGER workspace_members_access_changed AFTER INSERT OR UPDATE OR DELETE ON workspace_members
  FOR EACH ROW EXECUTE FUNCTION weft_notify_access_changed();
-- last_used_at is bookkeeping, not access: updating it alone announces nothing.
CREATE TRIGGER api_keys_access_changed AFTER INSERT OR DELETE OR UPDATE OF role, expires_at, revoked_at, workspace_id
  ON api_keys FOR EACH ROW EXECUTE FUNCTION weft_notify_access_changed();

-- Who did what, append-only. No foreign keys: a deleted workspace, user or key keeps its history.
CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  workspace_id uuid NOT NULL,
  actor_type text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'schedule', 'webhook', 'system')),
  actor_id text,
  -- The user's email or the key's, schedule's or hook's name, as it was at the time.
  actor_label text,
  action text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
  resource_type text NOT NULL,
  resource_id text,
  request_id text,
  ip text,
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_workspace_idx ON audit_log (workspace_id, id DESC);

CREATE FUNCTION weft_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION weft_audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION weft_audit_log_append_only();
-- ALWAYS: the triggers fire even with session_replication_role = replica, which a superuser could set to skip them.
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_update;
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;

-- Every user, existing or new, has a personal workspace they own.
INSERT INTO workspaces (id, name, personal_of, created_at)
  SELECT id, 'Personal', id, created_at FROM users;
INSERT INTO workspace_members (workspace_id, user_id, role, created_at)
  SELECT id, id, 'owner', created_at FROM users;

CREATE FUNCTION weft_personal_workspace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO workspaces (id, name, personal_of) VALUES (NEW.id, 'Personal', NEW.id);
  INSERT INTO workspace_members (workspace_id, user_id, role) VALUES (NEW.id, NEW.id, 'owner');
  RETURN NULL;
END
$$;
CREATE TRIGGER users_personal_workspace AFTER INSERT ON users
  FOR EACH ROW EXECUTE FUNCTION weft_personal_workspace();

-- Everything a user owned moves into their personal workspace. A row inserted without a workspace (code that
-- still scopes by owner) lands in its owner's personal one, so no row is ever without a workspace.
CREATE FUNCTION weft_default_workspace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.workspace_id := COALESCE(NEW.workspace_id, NEW.owner_id);
  RETURN NEW;
END
$$;

ALTER TABLE workflows ADD COLUMN workspace_id uuid REFERENCES workspaces (id) ON DELETE CASCADE;
UPDATE workflows SET workspace_id = owner_id;
ALTER TABLE workflows ALTER COLUMN workspace_id SET NOT NULL;
CREATE INDEX workflows_workspace_idx ON workflows (workspace_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE TRIGGER workflows_default_workspace BEFORE INSERT ON workflows
  FOR EACH ROW EXECUTE FUNCTION weft_default_workspace();

ALTER TABLE workflow_runs ADD COLUMN workspace_id uuid REFERENCES workspaces (id) ON DELETE CASCADE;
UPDATE workflow_runs SET workspace_id = owner_id;
ALTER TABLE workflow_runs ALTER COLUMN workspace_id SET NOT NULL;
CREATE INDEX workflow_runs_workspace_created_idx ON workflow_runs (workspace_id, created_at DESC, id DESC);
CREATE TRIGGER workflow_runs_default_workspace BEFORE INSERT ON workflow_runs
  FOR EACH ROW EXECUTE FUNCTION weft_default_workspace();

ALTER TABLE workflow_schedules ADD COLUMN workspace_id uuid REFERENCES workspaces (id) ON DELETE CASCADE;
UPDATE workflow_schedules SET workspace_id = owner_id;
ALTER TABLE workflow_schedules ALTER COLUMN workspace_id SET NOT NULL;
CREATE INDEX workflow_schedules_workspace_idx ON workflow_schedules (workspace_id);
CREATE TRIGGER workflow_schedules_default_workspace BEFORE INSERT ON workflow_schedules
  FOR EACH ROW EXECUTE FUNCTION weft_default_workspace();

ALTER TABLE secrets ADD COLUMN workspace_id uuid REFERENCES workspaces (id) ON DELETE CASCADE;
UPDATE secrets SET workspace_id = owner_id;
ALTER TABLE secrets ALTER COLUMN workspace_id SET NOT NULL;
ALTER TABLE secrets ADD CONSTRAINT secrets_workspace_name_key UNIQUE (workspace_id, name);
CREATE TRIGGER secrets_default_workspace BEFORE INSERT ON secrets
  FOR EACH ROW EXECUTE FUNCTION weft_default_workspace();

ALTER TABLE vector_collections ADD COLUMN workspace_id uuid REFERENCES workspaces (id) ON DELETE CASCADE;
UPDATE vector_collections SET workspace_id = owner_id;
ALTER TABLE vector_collections ALTER COLUMN workspace_id SET NOT NULL;
ALTER TABLE vector_collections ADD CONSTRAINT vector_collections_workspace_name_key UNIQUE (workspace_id, name);
CREATE TRIGGER vector_collections_default_workspace BEFORE INSERT ON vector_collections
  FOR EACH ROW EXECUTE FUNCTION weft_default_workspace();

-- Idempotency keys are per workspace and actor (a user or an API key): two members, or a member and a key,
-- never collide on the same Idempotency-Key.
ALTER TABLE run_idempotency_keys ADD COLUMN workspace_id uuid REFERENCES workspaces (id) ON DELETE CASCADE;
ALTER TABLE run_idempotency_keys ADD COLUMN actor_id uuid;
UPDATE run_idempotency_keys SET workspace_id = owner_id, actor_id = owner_id;
ALTER TABLE run_idempotency_keys ALTER COLUMN workspace_id SET NOT NULL;
ALTER TABLE run_idempotency_keys ALTER COLUMN actor_id SET NOT NULL;
CREATE UNIQUE INDEX run_idempotency_keys_actor_key ON run_idempotency_keys (workspace_id, actor_id, key);
CREATE FUNCTION weft_default_idempotency_actor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.workspace_id := COALESCE(NEW.workspace_id, NEW.owner_id);
  NEW.actor_id := COALESCE(NEW.actor_id, NEW.owner_id);
  RETURN NEW;
END
$$;
CREATE TRIGGER run_idempotency_keys_default_actor BEFORE INSERT ON run_idempotency_keys
  FOR EACH ROW EXECUTE FUNCTION weft_default_idempotency_actor();

-- A registered search's tenant is a workspace (its values, user ids so far, are their personal workspaces' ids).
ALTER TABLE vector_search_requests DROP CONSTRAINT vector_search_requests_tenant_id_fkey;
ALTER TABLE vector_search_requests ADD CONSTRAINT vector_search_requests_tenant_id_fkey
  FOREIGN KEY (tenant_id) REFERENCES workspaces (id) ON DELETE CASCADE;
