/** Run handlers: execute snapshots the graph and starts the Temporal workflow; reads come from PostgreSQL. */
import { withIncomingTrace, withSpan } from "../../core/tracing.ts";
import { approveUpdate, updateArgs } from "../../core/contract.ts";
import { ApiError } from "../errors.ts";
import { appendAudit } from "../../db/audit-log.ts";
import { auditRow } from "../workspaces/audit.ts";
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from "../temporal/client.ts";
import type { AppRouteHandler } from "../openapi.ts";
import { parseIdempotencyKey } from "./idempotency.ts";
import { presentRun } from "./present.ts";
import { runView } from "./run-view.ts";
import type * as routes from "./routes.ts";
import { startRun } from "./start.ts";
import { FINAL_RUN_STATUSES, getOwnedRun, listRuns } from "./store.ts";
import { finishedRun, StartTiming, waitForRunEnd } from "./wait.ts";

export const execute: AppRouteHandler<typeof routes.executeRoute> = async (c) => {
  const timing = new StartTiming();
  const services = c.get("services");
  const workflow = c.get("workflow");
  const { input } = c.req.valid("json");
  const { wait } = c.req.valid("query");
  const actor = c.get("actor");
  const workspaceId = c.get("workspace").id;
  const key = parseIdempotencyKey(c.req.header("idempotency-key"));
  // One trace per run, from here through the workflow to each node; a caller's traceparent continues its trace.
  const { replayed, ...run } = await withIncomingTrace(
    c.req.raw.headers,
    () =>
      withSpan("weft.execute", { "weft.workflow_id": workflow.id, "weft.tenant_id": workspaceId }, async (span) => {
        const started = await startRun(
          services,
          c.get("logger"),
          {
            workflow,
            workspaceId,
            startedBy: actor.type === "user" ? actor.id : null,
            actorId: actor.id,
            input,
            trigger: "manual",
            timing,
            audit: (runId) =>
              auditRow(c, {
                action: "run.started",
                resource: { type: "run", id: runId },
                details: { workflow_id: workflow.id, trigger: "manual" },
              }),
          },
          key,
        );
        span.setAttribute("weft.run_id", started.run_id);
        return started;
      }),
  );
  if (replayed) c.header("Idempotent-Replayed", "true");
  const ref = { workflowId: workflow.id, runId: run.run_id, workspaceId, fresh: !replayed };
  const finished = await finishedRun(services, c.get("logger"), ref, wait, c.req.raw.signal, timing);
  if (wait > 0) c.header("Server-Timing", timing.header);
  return finished ? c.json(finished, 200) : c.json(run, 202);
};

export const list: AppRouteHandler<typeof routes.listRunsRoute> = async (c) => {
  const { sql, config } = c.get("services");
  const { limit, offset } = c.req.valid("query");
  const { rows, total } = await listRuns(sql, c.get("workflow").id, { limit, offset });
  return c.json({ items: rows.map((r) => presentRun(config, r)), total, limit, offset }, 200);
};

export const get: AppRouteHandler<typeof routes.getRunRoute> = async (c) => {
  const services = c.get("services");
  const { sql, reconciler } = services;
  const { id, run_id } = c.req.valid("param");
  const { wait } = c.req.valid("query");
  const owner = c.get("workspace").id;
  let row = await reconciler.reconcile(await getOwnedRun(sql, id, run_id, owner));
  if (wait > 0 && !FINAL_RUN_STATUSES.has(row.status)) {
    await waitForRunEnd(services, c.get("logger"), run_id, wait * 1000, c.req.raw.signal);
    row = await reconciler.reconcile(await getOwnedRun(sql, id, run_id, owner));
  }
  return c.json(await runView(services, row), 200);
};

export const cancel: AppRouteHandler<typeof routes.cancelRunRoute> = async (c) => {
  const { sql, temporal, reconciler } = c.get("services");
  const { id, run_id } = c.req.valid("param");
  const owner = c.get("workspace").id;
  const run = await getOwnedRun(sql, id, run_id, owner);
  if (FINAL_RUN_STATUSES.has(run.status)) {
    throw new ApiError("CONFLICT", `the run has already finished (${run.status})`, { status: run.status });
  }
  try {
    await temporal.cancelWorkflow(run.temporal_workflow_id);
    // Recorded once Temporal took the request (the run's own row changes when the workflow ends).
    await appendAudit(sql, auditRow(c, { action: "run.cancelled", resource: { type: "run", id: run_id } }));
  } catch (err) {
    // Temporal closed it in the meantime: report what the run ended as.
    const current = await reconciler.reconcile(await getOwnedRun(sql, id, run_id, owner), true);
    if (FINAL_RUN_STATUSES.has(current.status)) {
      throw new ApiError("CONFLICT", `the run has already finished (${current.status})`, { status: current.status });
    }
    throw err;
  }
  return c.json({ run_id, status: run.status }, 202);
};

export const approve: AppRouteHandler<typeof routes.approveRoute> = async (c) => {
  const { sql, temporal } = c.get("services");
  const { id, run_id, node_name } = c.req.valid("param");
  const body = c.req.valid("json");
  const actor = c.get("actor");
  const run = await getOwnedRun(sql, id, run_id, c.get("workspace").id);
  if (FINAL_RUN_STATUSES.has(run.status)) {
    throw new ApiError("CONFLICT", `the run has already finished (${run.status})`);
  }
  try {
    await temporal.executeUpdate(
      run.temporal_workflow_id,
      approveUpdate.name,
      updateArgs(approveUpdate, {
        node_name,
        approved: body.approved,
        data: body.data ?? null,
        decided_by: actor.type === "user" ? actor.email : `API key ${actor.name}`,
      }),
    );
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      throw new ApiError("CONFLICT", err.failure.message || `node "${node_name}" is not waiting for approval`);
    }
    if (err instanceof WorkflowNotFoundError) throw new ApiError("CONFLICT", "the run has already finished");
    throw err;
  }
  await appendAudit(
    sql,
    auditRow(c, {
      action: "run.approved",
      resource: { type: "run", id: run_id },
      details: { node_name, approved: body.approved },
    }),
  );
  return c.json({ run_id, node_name, approved: body.approved }, 200);
};
