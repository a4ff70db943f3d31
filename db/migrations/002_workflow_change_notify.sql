-- Every change to a workflow, its nodes or its edges is announced on the channel `weft_workflow_changed`
-- (payload: the workflow id) at commit, whoever made it; API processes drop their cached copy on it.
CREATE FUNCTION weft_notify_workflow_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed uuid;
BEGIN
  IF TG_TABLE_NAME = 'workflows' THEN
    changed := COALESCE(NEW.id, OLD.id);
  ELSIF TG_OP = 'DELETE' THEN
    changed := OLD.workflow_id;
  ELSE
    changed := NEW.workflow_id;
  END IF;
  PERFORM pg_notify('weft_workflow_changed', changed::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER workflows_changed AFTER INSERT OR UPDATE OR DELETE ON workflows
  FOR EACH ROW EXECUTE FUNCTION weft_notify_workflow_changed();
CREATE TRIGGER nodes_changed AFTER INSERT OR UPDATE OR DELETE ON nodes
  FOR EACH ROW EXECUTE FUNCTION weft_notify_workflow_changed();
CREATE TRIGGER edges_changed AFTER INSERT OR UPDATE OR DELETE ON edges
  FOR EACH ROW EXECUTE FUNCTION weft_notify_workflow_changed();
