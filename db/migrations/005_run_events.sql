-- Live run progress: run and node status changes (and any event a worker appends, LLM tokens say) are kept in
-- run_events and announced on the channel `weft_run_events` (payload: the run id) at commit; the API streams
-- them as Server-Sent Events whose ids are run_events.id, so a client resumes after the last id it saw.
CREATE TABLE run_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id uuid NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
  -- Becomes the SSE event name, where a line break would corrupt the stream.
  type text NOT NULL CHECK (type ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  data jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX run_events_run_idx ON run_events (run_id, id);

-- The one way to append an event. The per-run lock, held until commit, makes a run's event ids become visible
-- in id order: without it two parallel nodes could commit ids 11 then 10, and a reader that had resumed after
-- 11 would never see 10.
CREATE FUNCTION weft_append_run_event(p_run_id uuid, p_type text, p_data jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  new_id bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7723005, hashtext(p_run_id::text));
  INSERT INTO run_events (run_id, type, data) VALUES (p_run_id, p_type, coalesce(p_data, '{}'))
    RETURNING id INTO new_id;
  PERFORM pg_notify('weft_run_events', p_run_id::text);
  RETURN new_id;
END
$$;

-- Outputs ride along so a client needs no second request, but events stay small: above 64 KB the output is
-- left out and flagged, and the client reads it from the run.
CREATE FUNCTION weft_event_output(output jsonb) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  size integer;
BEGIN
  IF output IS NULL THEN
    RETURN '{}';
  END IF;
  size := octet_length(output::text);
  IF size > 65536 THEN
    RETURN jsonb_build_object('output_omitted', true, 'output_bytes', size);
  END IF;
  RETURN jsonb_build_object('output', output);
END
$$;

CREATE FUNCTION weft_run_status_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM weft_append_run_event(NEW.id, 'run',
    jsonb_build_object('status', NEW.status, 'error', NEW.error) || weft_event_output(NEW.output));
  RETURN NULL;
END
$$;

CREATE FUNCTION weft_node_status_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  data jsonb := jsonb_build_object('node_id', NEW.node_id, 'node_name', NEW.node_name, 'type', NEW.type,
    'status', NEW.status, 'attempt', NEW.attempt);
BEGIN
  IF NEW.error IS NOT NULL THEN
    data := data || jsonb_build_object('error', NEW.error);
  END IF;
  IF NEW.duration_ms IS NOT NULL THEN
    data := data || jsonb_build_object('duration_ms', NEW.duration_ms);
  END IF;
  -- A reused node's output is as final as a succeeded one's.
  IF NEW.status IN ('succeeded', 'reused') THEN
    data := data || weft_event_output(NEW.output);
  END IF;
  PERFORM weft_append_run_event(NEW.run_id, 'node', data);
  RETURN NULL;
END
$$;

CREATE TRIGGER workflow_runs_event_insert AFTER INSERT ON workflow_runs
  FOR EACH ROW EXECUTE FUNCTION weft_run_status_event();
CREATE TRIGGER workflow_runs_event_update AFTER UPDATE OF status ON workflow_runs
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION weft_run_status_event();
CREATE TRIGGER node_executions_event_insert AFTER INSERT ON node_executions
  FOR EACH ROW EXECUTE FUNCTION weft_node_status_event();
CREATE TRIGGER node_executions_event_update AFTER UPDATE OF status ON node_executions
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION weft_node_status_event();
