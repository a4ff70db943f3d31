-- A run is marked `running` by the first node_executions row written for it (an attempt, an approval or control
-- node, a skipped or reused node), not by a bookkeeping call of its own: the workflow no longer makes a
-- markRunStarted round trip (patch `weft-lean-bookkeeping`, docs/engine.md). The run's started_at is when that
-- first row's node began. Triggers on a table fire in name order: this one (`..._begin_run`) runs before
-- `node_executions_event_insert`, so the run's `running` event precedes the node's, as it did before.
CREATE FUNCTION weft_node_begins_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE workflow_runs
     SET status = 'running', started_at = coalesce(started_at, greatest(created_at, least(now(), NEW.started_at)))
   WHERE id = NEW.run_id AND status = 'pending';
  RETURN NULL;
END
$$;

CREATE TRIGGER node_executions_begin_run AFTER INSERT ON node_executions
  FOR EACH ROW EXECUTE FUNCTION weft_node_begins_run();
