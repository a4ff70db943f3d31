/** Sending events to a run (the `event` signal its wait_for_event nodes take) and reading a map node's items. */
import { EVENT_NAME_PATTERN } from "../../core/control-nodes.ts";
import { runEventSignal } from "../../core/contract.ts";
import { appendAudit } from "../../db/audit-log.ts";
import { mapItemsPage } from "../../db/map-items.ts";
import { ApiError, notFound } from "../errors.ts";
import type { AppRouteHandler } from "../openapi.ts";
import { WorkflowNotFoundError } from "../temporal/client.ts";
import { auditRow } from "../workspaces/audit.ts";
import type * as routes from "./control-routes.ts";
import { FINAL_RUN_STATUSES, getOwnedRun } from "./store.ts";

export const signal: AppRouteHandler<typeof routes.signalRoute> = async (c) => {
  const { sql, temporal } = c.get("services");
  const { id, run_id, event } = c.req.valid("param");
  const body = c.req.valid("json");
  const run = await getOwnedRun(sql, id, run_id, c.get("workspace").id);
  if (!EVENT_NAME_PATTERN.test(event)) {
    const message = "event names are 1 to 64 of A-Z a-z 0-9 _ . -";
    throw new ApiError("VALIDATION_ERROR", `invalid event name "${event}": ${message}`, [
      { field: "event", location: "path", message },
    ]);
  }
  const finished = () => new ApiError("CONFLICT", `the run has already finished (${run.status})`);
  if (FINAL_RUN_STATUSES.has(run.status)) throw finished();
  const received_at = new Date().toISOString();
  try {
    await temporal.signalWorkflow(run.temporal_workflow_id, runEventSignal.name, [
      { event, data: body.data ?? null, received_at },
    ]);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw finished();
    throw err;
  }
  // Recorded once Temporal took the signal; the event's data is not (it may hold anything).
  await appendAudit(
    sql,
    auditRow(c, { action: "run.signalled", resource: { type: "run", id: run_id }, details: { event } }),
  );
  return c.json({ run_id, event, received_at }, 202);
};

export const mapItems: AppRouteHandler<typeof routes.mapItemsRoute> = async (c) => {
  const { sql } = c.get("services");
  const { id, run_id, node_name } = c.req.valid("param");
  const { status, limit, cursor } = c.req.valid("query");
  await getOwnedRun(sql, id, run_id, c.get("workspace").id);
  const [node] = await sql`
    SELECT n->>'id' AS id FROM workflow_runs r, jsonb_array_elements(r.snapshot->'nodes') AS n
    WHERE r.id = ${run_id} AND n->>'name' = ${node_name} AND n->>'type' = 'map'`;
  if (!node) throw notFound("map node");
  const items = await mapItemsPage(sql, {
    runId: run_id,
    nodeId: node.id as string,
    status,
    after: cursor === undefined ? -1 : Number(cursor),
    limit: limit + 1,
  });
  const more = items.length > limit;
  const page = items.slice(0, limit);
  return c.json({ items: page, next_cursor: more ? String(page[page.length - 1].index) : null }, 200);
};
