-- How each node attempt ran (core/node-execution.ts): 'local' (a Temporal local activity inside the workflow
-- task) or 'activity' (a regular activity, or a member of a group or map activity). NULL for what the workflow
-- decided itself (skipped, reused, approvals, control-flow nodes) and for rows written before this column.
ALTER TABLE node_executions ADD COLUMN execution text CHECK (execution IN ('local', 'activity'));
