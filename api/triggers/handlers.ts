/** Trigger handlers: webhooks start runs like execute does; schedules are Temporal Schedules mirrored in SQL. */
import { audit, audited } from "../workspaces/audit.ts";
import { withIncomingTrace, withSpan } from "../../core/tracing.ts";
import type { Services } from "../env.ts";
import { ApiError, engineUnavailable, notFound } from "../errors.ts";
import type { AppRouteHandler } from "../openapi.ts";
import { parseIdempotencyKey } from "../runs/idempotency.ts";
import { startRun } from "../runs/start.ts";
import { finishedRun, StartTiming } from "../runs/wait.ts";
import type * as routes from "./routes.ts";
import {
  deleteSchedule,
  disableHook,
  getHook,
  hookWorkflow,
  insertSchedule,
  listSchedules,
  type ScheduleRow,
  scheduleTemporalId,
  upsertHook,
} from "./store.ts";
import {
  createTemporalSchedule,
  deleteTemporalSchedule,
  InvalidScheduleError,
  scheduleUiUrl,
  temporalScheduleId,
} from "./temporal.ts";
import { canonicalTimeZone } from "./timezone.ts";
import { hashHookToken, newHookToken } from "./tokens.ts";

function presentSchedule(services: Services, row: ScheduleRow) {
  const { temporal_schedule_id: id, ...rest } = row;
  return { ...rest, temporal: { schedule_id: id, ui_url: scheduleUiUrl(services.config, id) } };
}

// Public: the token in the path is the credential (app.ts skips bearer auth under /api/hooks/).
export const webhook: AppRouteHandler<typeof routes.webhookRoute> = async (c) => {
  const timing = new StartTiming();
  const services = c.get("services");
  const { token } = c.req.valid("param");
  const { wait } = c.req.valid("query");
  const input = c.req.valid("json");
  const key = parseIdempotencyKey(c.req.header("idempotency-key"));
  const workflow = await hookWorkflow(services.sql, await hashHookToken(token));
  if (!workflow) throw notFound("webhook");
  // A caller's traceparent continues its trace through the run (core/tracing.ts).
  const { replayed, ...started } = await withIncomingTrace(
    c.req.raw.headers,
    () =>
      withSpan("weft.webhook", {}, async (span) => {
        // Attributed to the hook: the actor (and the Idempotency-Key's owner) is the webhook of this workflow.
        const run = await startRun(services, c.get("logger"), {
          workflow,
          workspaceId: workflow.workspace_id,
          // The run's owner_id stays the workflow's creator, as before workspaces.
          startedBy: workflow.owner_id,
          actorId: workflow.id,
          input,
          trigger: "webhook",
          timing,
          audit: (runId) => ({
            workspaceId: workflow.workspace_id,
            actor: { type: "webhook", id: workflow.id, label: `webhook of ${workflow.name}` },
            action: "run.started",
            resource: { type: "run", id: runId },
            details: { workflow_id: workflow.id, trigger: "webhook" },
            requestId: c.get("requestId"),
          }),
        }, key);
        span.setAttributes({ "weft.run_id": run.run_id, "weft.workflow_id": workflow.id });
        return run;
      }),
  );
  if (replayed) c.header("Idempotent-Replayed", "true");
  const ref = { workflowId: workflow.id, runId: started.run_id, workspaceId: workflow.workspace_id, fresh: !replayed };
  const finished = await finishedRun(services, c.get("logger"), ref, wait, c.req.raw.signal, timing);
  if (wait > 0) c.header("Server-Timing", timing.header);
  return finished ? c.json(finished, 200) : c.json(started, 202);
};

export const rotateHook: AppRouteHandler<typeof routes.rotateHookRoute> = async (c) => {
  const token = newHookToken();
  const workflowId = c.get("workflow").id;
  const hash = await hashHookToken(token);
  const createdAt = await audited(c, async (tx) => {
    await audit(tx, c, { action: "hook.rotated", resource: { type: "hook", id: workflowId }, details: {} });
    return await upsertHook(tx, workflowId, hash);
  });
  // The one response that carries the secret: no cache may keep it.
  c.header("cache-control", "no-store");
  return c.json({ token, url_path: `/api/hooks/${token}`, created_at: createdAt }, 201);
};

export const getHookStatus: AppRouteHandler<typeof routes.getHookRoute> = async (c) => {
  const row = await getHook(c.get("services").sql, c.get("workflow").id);
  return c.json(row ?? { enabled: false, created_at: null }, 200);
};

export const disable: AppRouteHandler<typeof routes.disableHookRoute> = async (c) => {
  const workflowId = c.get("workflow").id;
  await audited(c, async (tx) => {
    await disableHook(tx, workflowId);
    await audit(tx, c, { action: "hook.disabled", resource: { type: "hook", id: workflowId }, details: {} });
  });
  return c.body(null, 204);
};

export const schedules: AppRouteHandler<typeof routes.listSchedulesRoute> = async (c) => {
  const services = c.get("services");
  const rows = await listSchedules(services.sql, c.get("workflow").id);
  return c.json({ items: rows.map((r) => presentSchedule(services, r)) }, 200);
};

export const createSchedule: AppRouteHandler<typeof routes.createScheduleRoute> = async (c) => {
  const services = c.get("services");
  const { config, temporal } = services;
  const { id } = c.get("workflow");
  const { cron, input, paused, ...body } = c.req.valid("json");
  const actor = c.get("actor");
  const workspaceId = c.get("workspace").id;
  const scheduleId = crypto.randomUUID();
  const temporalId = temporalScheduleId(scheduleId);
  const timezone = canonicalTimeZone(body.timezone);
  // The row comes first: each firing's activity checks it exists, and a firing can follow creation at once.
  const row = await audited(c, async (tx) => {
    await audit(tx, c, {
      action: "schedule.created",
      resource: { type: "schedule", id: scheduleId },
      details: { workflow_id: id, cron, timezone, paused },
    });
    return await insertSchedule(tx, {
      id: scheduleId,
      workflowId: id,
      workspaceId,
      createdBy: actor.type === "user" ? actor.id : null,
      cron,
      timezone,
      input,
      paused,
      temporalScheduleId: temporalId,
    });
  });
  try {
    await createTemporalSchedule(temporal, config.WEFT_TASK_QUEUE, temporalId, { cron, timezone, paused }, {
      workflowId: id,
      // The tenant the firings run for: the workspace (contract's ScheduledRunInput.ownerId).
      ownerId: workspaceId,
      input,
      scheduleId,
      searchAttributes: config.TEMPORAL_SEARCH_ATTRIBUTES,
      gpuTaskQueue: config.WEFT_GPU_TASK_QUEUE,
      // A firing's run gets the limits an API-started run gets (api/runs/launch.ts runWorkflowInput).
      maxDepth: config.WEFT_MAX_SUB_WORKFLOW_DEPTH,
      maxHistoryEvents: config.WEFT_MAX_HISTORY_EVENTS,
      mapBatchItems: config.WEFT_MAP_BATCH_ITEMS,
    });
  } catch (err) {
    // The schedule never existed: its row goes, and the record says so.
    await audited(c, async (tx) => {
      await deleteSchedule(tx, scheduleId);
      await audit(tx, c, {
        action: "schedule.deleted",
        resource: { type: "schedule", id: scheduleId },
        details: { workflow_id: id, reason: "the engine refused it" },
      });
    });
    if (err instanceof InvalidScheduleError) {
      const field = /zone|location/i.test(err.message) ? "timezone" : "cron";
      throw new ApiError("VALIDATION_ERROR", `invalid schedule: ${err.message}`, [
        { field, location: "body", message: err.message },
      ]);
    }
    c.get("logger").error("temporal schedule create failed", { schedule_id: scheduleId, error: String(err) });
    throw engineUnavailable("the schedule was not created");
  }
  c.get("logger").info("schedule created", { schedule_id: scheduleId, workflow_id: id, cron, timezone });
  return c.json(presentSchedule(services, row), 201);
};

export const removeSchedule: AppRouteHandler<typeof routes.deleteScheduleRoute> = async (c) => {
  const { sql, temporal } = c.get("services");
  const { schedule_id } = c.req.valid("param");
  const temporalId = await scheduleTemporalId(sql, c.get("workflow").id, schedule_id);
  if (!temporalId) throw notFound("schedule");
  try {
    await deleteTemporalSchedule(temporal, temporalId);
  } catch (err) {
    // The row stays, so the delete can be retried and the schedule is not lost track of.
    c.get("logger").error("temporal schedule delete failed", { schedule_id, error: String(err) });
    throw engineUnavailable("the schedule was not deleted");
  }
  await audited(c, async (tx) => {
    await deleteSchedule(tx, schedule_id);
    await audit(tx, c, {
      action: "schedule.deleted",
      resource: { type: "schedule", id: schedule_id },
      details: { workflow_id: c.get("workflow").id },
    });
  });
  return c.body(null, 204);
};
