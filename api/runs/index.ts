/** Run handlers: execute snapshots the graph and starts the Temporal workflow; reads come from PostgreSQL. */
import type { Services } from "../env.ts";
import { ApiError } from "../errors.ts";
import { createRouter } from "../openapi.ts";
import { getOwnedWorkflow, type Row } from "../workflows/store.ts";
import { INLINE_OUTPUT_LIMIT_BYTES, isOutputRef, jsonBytes, outputRef } from "../../core/output-ref.ts";
import { planReuse } from "../../core/reuse.ts";
import { loadRef } from "../../db/output-refs.ts";
import type { WorkflowSnapshot } from "../../core/snapshot.ts";
import { snapshotWorkflow } from "../../db/runs.ts";
import { withIncomingTrace, withSpan } from "../../core/tracing.ts";
import { cancelRunRoute, executeRoute, getRunRoute, listRunsRoute, retryRunRoute } from "./routes.ts";
import { approvalRoutes } from "./approve.ts";
import { parseIdempotencyKey } from "./idempotency.ts";
import { startRun } from "./start.ts";
import { runUsage } from "./usage.ts";
import { closedStatus, temporalUiUrl } from "./temporal.ts";
import { runEventHub, type Subscription } from "./event-hub.ts";
import { FINAL_RUN_STATUSES, getOwnedRun as ownedRun, RUN_COLUMNS } from "./store.ts";

const getOwnedRun = (services: Services, workflowId: string, runId: string, ownerId: string) =>
  ownedRun(services.sql, workflowId, runId, ownerId);
import type { Logger } from "../logger.ts";

const FINAL = FINAL_RUN_STATUSES;

export function presentRun(services: Services, row: Row) {
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
/** Temporal is asked about a given unfinished run at most this often, however often clients poll it. */
const RECONCILE_EVERY_MS = 3000;
const lastReconciled = new Map<string, number>();

async function reconcile(services: Services, row: Row, force = false): Promise<Row> {
  if (FINAL.has(row.status as string)) return row;
  const now = Date.now();
  if (!force && now - (lastReconciled.get(row.id as string) ?? 0) < RECONCILE_EVERY_MS) return row;
  if (lastReconciled.size > 10_000) lastReconciled.clear();
  lastReconciled.set(row.id as string, now);
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
    // A scheduled run's row exists a moment before its Temporal workflow does.
    if ((err as Error).name === "WorkflowNotFoundError" && row.status === "pending") return row;
    services.logger.warn("could not reconcile run with Temporal", { run_id: row.id, error: (err as Error).message });
    return row;
  }
}

/**
 * Waits until the run's events say it ended, `timeoutMs` passes or the client goes away. Listens through the
 * process's one LISTEN connection (the event hub), from the run's latest event on, so no end can slip between
 * the check and the subscription.
 */
async function waitForRunEnd(
  services: Services,
  logger: Logger,
  runId: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const { sql } = services;
  const [{ last }] = await sql`SELECT coalesce(max(id), 0)::text AS last FROM run_events WHERE run_id = ${runId}`;
  const [{ status }] = await sql`SELECT status FROM workflow_runs WHERE id = ${runId}`;
  if (FINAL.has(status as string)) return;
  let sub: Subscription;
  try {
    sub = await runEventHub(sql, logger).subscribe(runId, BigInt(last as string));
  } catch (err) {
    logger.warn("cannot wait for the run's end; answering at once", { run_id: runId, error: (err as Error).message });
    return;
  }
  const onAbort = () => sub.close();
  signal.addEventListener("abort", onAbort);
  try {
    const deadline = Date.now() + timeoutMs;
    while (!sub.closed && Date.now() < deadline) {
      const events = await sub.next(deadline - Date.now());
      if (events.some((e) => e.type === "run" && FINAL.has((e.data as { status?: string }).status ?? ""))) return;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    sub.close();
  }
}

export function runRoutes() {
  const app = createRouter();
  app.route("/", approvalRoutes());

  app.openapi(executeRoute, async (c) => {
    const services = c.get("services");
    const { id } = c.req.valid("param");
    const { input } = c.req.valid("json");
    const user = c.get("user");
    // One trace per run, from here through the workflow to each node; a caller's traceparent continues its trace.
    return await withIncomingTrace(
      c.req.raw.headers,
      () =>
        withSpan("weft.execute", { "weft.workflow_id": id, "weft.tenant_id": user.id }, async (span) => {
          const workflow = await getOwnedWorkflow(services.sql, id, user.id);
          const key = parseIdempotencyKey(c.req.header("idempotency-key"));
          const { replayed, ...run } = await startRun(
            services,
            c.get("logger"),
            { workflow, ownerId: user.id, input, trigger: "manual" },
            key,
          );
          span.setAttribute("weft.run_id", run.run_id);
          if (replayed) c.header("Idempotent-Replayed", "true");
          return c.json(run, 202);
        }),
    );
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
    const { wait } = c.req.valid("query");
    let row = await reconcile(services, await getOwnedRun(services, id, run_id, c.get("user").id));
    if (wait > 0 && !FINAL.has(row.status as string)) {
      await waitForRunEnd(services, c.get("logger"), run_id, wait * 1000, c.req.raw.signal);
      row = await reconcile(services, await getOwnedRun(services, id, run_id, c.get("user").id));
    }
    const executions = await sql`
      SELECT node_id, node_name, type, status, attempt, input, output, error, started_at, finished_at, duration_ms
      FROM node_executions WHERE run_id = ${run_id} ORDER BY started_at, id`;
    // Outputs passed through Temporal by reference are returned whole, as if they never left.
    for (const e of executions) if (isOutputRef(e.output)) e.output = await loadRef(sql, e.output);
    if (row.output && typeof row.output === "object") {
      const output = row.output as Record<string, unknown>;
      for (const [name, value] of Object.entries(output)) {
        if (isOutputRef(value)) output[name] = await loadRef(sql, value);
      }
    }
    const usage = runUsage(executions);
    return c.json({ ...presentRun(services, row), usage, node_executions: [...executions] } as never, 200);
  });

  app.openapi(retryRunRoute, async (c) => {
    const services = c.get("services");
    const { sql } = services;
    const { id, run_id } = c.req.valid("param");
    const { version } = (c.req.valid("json") ?? {}) as { version?: "pinned" | "latest" };
    const user = c.get("user");
    const old = await getOwnedRun(services, id, run_id, user.id);
    if (old.status !== "failed" && old.status !== "cancelled") {
      throw new ApiError("CONFLICT", `only a failed or cancelled run can be re-run; this one is ${old.status}`, {
        status: old.status,
      });
    }
    const workflow = await getOwnedWorkflow(sql, id, user.id);
    const [{ snapshot: previous }] = await sql`SELECT snapshot FROM workflow_runs WHERE id = ${run_id}`;
    const next = version === "latest"
      ? await snapshotWorkflow(sql, workflow).catch((err) => {
        if (err?.name === "InvalidGraphError") throw new ApiError("INVALID_GRAPH", err.message, { errors: err.errors });
        throw err;
      })
      : previous as WorkflowSnapshot;
    const rows = await sql`
      SELECT DISTINCT ON (node_id) node_id, output FROM node_executions
      WHERE run_id = ${run_id} AND status IN ('succeeded', 'reused') ORDER BY node_id, attempt DESC`;
    // Large outputs are handed over by reference to the earlier run's execution, not copied into Temporal.
    const succeeded = new Map(rows.map((r) => {
      const bytes = jsonBytes(r.output);
      const value = bytes > INLINE_OUTPUT_LIMIT_BYTES ? outputRef(run_id, r.node_id as string, bytes) : r.output;
      return [r.node_id as string, value];
    }));
    const reuse = planReuse(
      previous as WorkflowSnapshot,
      next,
      succeeded,
    );
    const started = await startRun(services, c.get("logger"), {
      workflow,
      ownerId: user.id,
      input: old.input as Record<string, unknown>,
      trigger: "retry",
      retryOf: run_id,
      snapshot: next,
      reuse,
    });
    const names = next.nodes.filter((n) => Object.hasOwn(reuse, n.id)).map((n) => n.name);
    return c.json({ ...started, retry_of: run_id, reused: names }, 202);
  });

  app.openapi(cancelRunRoute, async (c) => {
    const services = c.get("services");
    const { id, run_id } = c.req.valid("param");
    const run = await getOwnedRun(services, id, run_id, c.get("user").id);
    if (FINAL.has(run.status as string)) {
      throw new ApiError("CONFLICT", `the run has already finished (${run.status})`, { status: run.status });
    }
    try {
      await services.temporal.cancelWorkflow(run.temporal_workflow_id as string);
    } catch (err) {
      // Temporal closed it in the meantime: report what the run ended as.
      const current = await reconcile(services, await getOwnedRun(services, id, run_id, c.get("user").id), true);
      if (FINAL.has(current.status as string)) {
        throw new ApiError("CONFLICT", `the run has already finished (${current.status})`, { status: current.status });
      }
      throw err;
    }
    return c.json({ run_id, status: run.status as "running" }, 202);
  });

  return app;
}
