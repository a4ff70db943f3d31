-- A run's final status event is also announced on `weft_run_final` (payload: the run id), so that an API process
-- whose only interest in a run is its end (`?wait` on GET, execute and webhooks: api/runs/wait.ts) reads the run's
-- events once, at the end, rather than after each of its node and status events. `weft_run_events` is unchanged
-- (every event, payload the run id), so API processes of the previous release keep working during a rollout.
CREATE OR REPLACE FUNCTION weft_append_run_event(p_run_id uuid, p_type text, p_data jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  new_id bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7723005, hashtext(p_run_id::text));
  INSERT INTO run_events (run_id, type, data) VALUES (p_run_id, p_type, coalesce(p_data, '{}'))
    RETURNING id INTO new_id;
  PERFORM pg_notify('weft_run_events', p_run_id::text);
  IF p_type = 'run' AND p_data->>'status' IN ('succeeded', 'failed', 'cancelled') THEN
    PERFORM pg_notify('weft_run_final', p_run_id::text);
  END IF;
  RETURN new_id;
END
$$;
