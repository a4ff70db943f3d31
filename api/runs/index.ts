/** Run handlers: execute snapshots the graph and starts the Temporal workflow; reads come from PostgreSQL. */
import type { WorkflowSnapshot } from "../../core/snapshot.ts";
import type { Sql } from "../../db/client.ts";
import { insertRun, InvalidGraphError, snapshotWorkflow } from "../../db/runs.ts";
import type { Services } from "../env.ts";
import { ApiError, notFound } from "../errors.ts";
import { createRouter } from "../openapi.ts";
import { getOwnedWorkflow, type Row } from "../workflows/store.ts";
import { executeRoute, getRunRoute, listRunsRoute } from "./routes.ts";
import { closedStatus, startRunWorkflow, temporalUiUrl, temporalWorkflowId } from "./temporal.ts";

const RUN_COLUMNS =
  "id, workflow_id, status, input, output, error, workflow_version, version_hash, created_at, started_at, finished_at, temporal_workflow_id, temporal_run_id";

const FINAL = new Set(["succeeded", "failed", "cancelled"]);

function presentRun(services: Services, row: Row) {
  const { temporal_workflow_id, temporal_run_id, workflow_version, ...rest } = row;
  return {
    ...rest,
    version: workflow_version,
    temporal: {
      workflow_id: temporal_workflow_id,
      run_id: temporal_run_id,
      ui_url: temporalUiUrl(services.config, temporal_workflow_id as string, temporal_run_id as string | null),
    },
  };
}

/** A run Temporal ended without the workflow recording it (terminated by an operator, say) is closed here. */
async function reconcile(services: Services, row: Row): Promise<Row> {
  if (FINAL.has(row.status as string)) return row;
  try {
    const closed = await closedStatus(services.temporal, row.temporal_workflow_id as string);
    if (!closed) return row;
    const [updated] = await services.sql`
      UPDATE workflow_runs SET status = ${closed.status}, error = ${services.sql.json({ message: closed.reason })},
        finished_at = now()
      WHERE id = ${row.id as string} AND status NOT IN ('succeeded', 'failed', 'cancelled')
      RETURNING ${services.sql.unsafe(RUN_COLUMNS)}`;
    return updated ?? row;
  } catch (err) {
    services.logger.warn("could not reconcile run with Temporal", { run_id: row.id, error: (err as Error).message });
    return row;
  }
}

async function buildSnapshot(sql: Sql, workflow: Row): Promise<WorkflowSnapshot> {
  try {
    return await snapshotWorkflow(sql, workflow);
  } catch (err) {
    if (err instanceof InvalidGraphError) {
      throw new ApiError("INVALID_GRAPH", err.message, { errors: err.errors });
    }
    throw err;
  }
}

export function runRoutes() {
  const app = createRouter();

  app.openapi(executeRoute, async (c) => {
    const services = c.get("services");
    const { sql, config, temporal } = services;
    const { id } = c.req.valid("param");
    const { input } = c.req.valid("json");
    const user = c.get("user");
    const workflow = await getOwnedWorkflow(sql, id, user.id);
    const snapshot = await buildSnapshot(sql, workflow);
    const runId = crypto.randomUUID();
    const workflowId = temporalWorkflowId(runId);
    await insertRun(sql, { runId, workflowId: id, ownerId: user.id, input, snapshot, trigger: "manual" });
    let temporalRunId: string;
    try {
      temporalRunId = await startRunWorkflow(temporal, config.WEFT_TASK_QUEUE, { runId, input, snapshot });
    } catch (err) {
      // Never leave an accepted-looking run behind: it is closed as failed, and the client told why.
      await sql`UPDATE workflow_runs SET status = 'failed', finished_at = now(),
        error = ${sql.json({ message: "could not start the run in Temporal" })} WHERE id = ${runId}`;
      c.get("logger").error("temporal start failed", { run_id: runId, error: (err as Error).message });
      throw new ApiError("SERVICE_UNAVAILABLE", "the workflow engine is unavailable; the run was not started", {
        run_id: runId,
      });
    }
    await sql`UPDATE workflow_runs SET temporal_run_id = ${temporalRunId} WHERE id = ${runId}`;
    c.get("logger").info("run started", { run_id: runId, workflow_id: id, temporal_workflow_id: workflowId });
    return c.json({
      run_id: runId,
      status: "pending" as const,
      version: snapshot.version,
      version_hash: snapshot.hash,
      temporal: {
        workflow_id: workflowId,
        run_id: temporalRunId,
        ui_url: temporalUiUrl(config, workflowId, temporalRunId),
      },
    }, 202);
  });

  app.openapi(listRunsRoute, async (c) => {
    const services = c.get("services");
    const { sql } = services;
    const { id } = c.req.valid("param");
    const { limit, offset } = c.req.valid("query");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    const [rows, [{ total }]] = await Promise.all([
      sql`SELECT ${sql.unsafe(RUN_COLUMNS)} FROM workflow_runs WHERE workflow_id = ${id}
          ORDER BY created_at DESC, id DESC LIMIT ${limit} OFFSET ${offset}`,
      sql`SELECT count(*)::int AS total FROM workflow_runs WHERE workflow_id = ${id}`,
    ]);
    return c.json({ items: rows.map((r) => presentRun(services, r)), total, limit, offset } as never, 200);
  });

  app.openapi(getRunRoute, async (c) => {
    const services = c.get("services");
    const { sql } = services;
    const { id, run_id } = c.req.valid("param");
    const owner = c.get("user").id;
    // Runs stay readable after their workflow is soft-deleted; ownership is the run's own.
    const [found] = await sql`SELECT ${sql.unsafe(RUN_COLUMNS)} FROM workflow_runs
      WHERE id = ${run_id} AND workflow_id = ${id} AND owner_id = ${owner}`;
    if (!found) throw notFound("run");
    const row = await reconcile(services, found);
    const executions = await sql`
      SELECT node_id, node_name, type, status, attempt, input, output, error, started_at, finished_at, duration_ms
      FROM node_executions WHERE run_id = ${run_id} ORDER BY started_at, id`;
    return c.json({ ...presentRun(services, row), node_executions: [...executions] } as never, 200);
  });

  return app;
}
