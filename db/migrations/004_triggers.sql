-- Run triggers: one webhook per workflow (only the token's SHA-256 is kept) and cron schedules that live in
-- Temporal as Schedules (`weft-schedule-<id>`), mirrored here so the API can list and own them.
CREATE TABLE workflow_hooks (
  workflow_id uuid PRIMARY KEY REFERENCES workflows (id) ON DELETE CASCADE,
  -- NULL once disabled, so a disabled token can never match again; a new one comes only by rotating.
  token_hash text UNIQUE,
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (enabled = (token_hash IS NOT NULL))
);

CREATE TABLE workflow_schedules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workflow_id uuid NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  cron text NOT NULL,
  timezone text NOT NULL DEFAULT 'UTC',
  input jsonb NOT NULL DEFAULT '{}',
  paused boolean NOT NULL DEFAULT false,
  temporal_schedule_id text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workflow_schedules_workflow_idx ON workflow_schedules (workflow_id, created_at);
