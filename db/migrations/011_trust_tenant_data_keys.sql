-- Per-tenant data keys for Temporal payloads (envelope encryption): each key is random, stored only wrapped
-- (AES-256-GCM) under the payload master key WEFT_PAYLOAD_KEY. tenant_id is the owner user id for now (the
-- workspaces issue maps it to workspace ids), or 'system' for payloads no tenant owns. Rotating the master key
-- re-wraps these rows; the payloads in Temporal are untouched.
CREATE TABLE tenant_data_keys (
  id text PRIMARY KEY,
  tenant_id text NOT NULL,
  master_key_id text NOT NULL,
  iv bytea NOT NULL,
  wrapped bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- One current key per tenant: the newest.
CREATE INDEX tenant_data_keys_tenant ON tenant_data_keys (tenant_id, created_at DESC);
