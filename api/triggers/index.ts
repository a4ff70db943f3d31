/** Trigger handlers: webhooks start runs like execute does; schedules are Temporal Schedules mirrored in SQL. */
import { ApiError, notFound } from "../errors.ts";
import { createRouter } from "../openapi.ts";
import { startRun } from "../runs/start.ts";
import { withIncomingTrace, withSpan } from "../../core/tracing.ts";
import { getOwnedWorkflow, type Row } from "../workflows/store.ts";
import type { Services } from "../env.ts";
import {
  createScheduleRoute,
  deleteScheduleRoute,
  disableHookRoute,
  getHookRoute,
  listSchedulesRoute,
  rotateHookRoute,
  webhookRoute,
} from "./routes.ts";
import {
  createTemporalSchedule,
  deleteTemporalSchedule,
  InvalidScheduleError,
  scheduleUiUrl,
  temporalScheduleId,
} from "./temporal.ts";
import { canonicalTimeZone } from "./timezone.ts";
import { hashHookToken, newHookToken } from "./tokens.ts";

const SCHEDULE_COLUMNS = "id, workflow_id, cron, timezone, input, paused, created_at, temporal_schedule_id";

function presentSchedule(services: Services, row: Row) {
  const { temporal_schedule_id, ...rest } = row;
  const id = temporal_schedule_id as string;
  return { ...rest, temporal: { schedule_id: id, ui_url: scheduleUiUrl(services.config, id) } };
}

function engineUnavailable(what: string) {
  return new ApiError("SERVICE_UNAVAILABLE", `the workflow engine is unavailable; ${what}`);
}

export function triggerRoutes() {
  const app = createRouter();

  // Public: the token in the path is the credential (app.ts skips bearer auth under /api/hooks/).
  app.openapi(webhookRoute, async (c) => {
    const services = c.get("services");
    const { token } = c.req.valid("param");
    const input = c.req.valid("json");
    // A caller's traceparent continues its trace through the run (core/tracing.ts).
    return await withIncomingTrace(c.req.raw.headers, () =>
      withSpan("weft.webhook", {}, async (span) => {
        // Every workflow column: startRun's snapshot pins the workflow's settings along with its graph.
        const [workflow] = await services.sql`
          SELECT w.* FROM workflow_hooks h JOIN workflows w ON w.id = h.workflow_id
          WHERE h.token_hash = ${await hashHookToken(token)} AND h.enabled AND w.deleted_at IS NULL`;
        if (!workflow) throw notFound("webhook");
        const ownerId = workflow.owner_id as string;
        const started = await startRun(services, c.get("logger"), { workflow, ownerId, input, trigger: "webhook" });
        span.setAttributes({ "weft.run_id": started.run_id, "weft.workflow_id": workflow.id as string });
        return c.json(started, 202);
      }));
  });

  app.openapi(rotateHookRoute, async (c) => {
    const { sql } = c.get("services");
    const { id } = c.req.valid("param");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    const token = newHookToken();
    const [row] = await sql`
      INSERT INTO workflow_hooks (workflow_id, token_hash) VALUES (${id}, ${await hashHookToken(token)})
      ON CONFLICT (workflow_id) DO UPDATE SET token_hash = excluded.token_hash, enabled = true, created_at = now()
      RETURNING created_at`;
    // The one response that carries the secret: no cache may keep it.
    c.header("cache-control", "no-store");
    return c.json({ token, url_path: `/api/hooks/${token}`, created_at: row.created_at } as never, 201);
  });

  app.openapi(getHookRoute, async (c) => {
    const { sql } = c.get("services");
    const { id } = c.req.valid("param");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    const [row] = await sql`SELECT enabled, created_at FROM workflow_hooks WHERE workflow_id = ${id}`;
    return c.json((row ?? { enabled: false, created_at: null }) as never, 200);
  });

  app.openapi(disableHookRoute, async (c) => {
    const { sql } = c.get("services");
    const { id } = c.req.valid("param");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    await sql`UPDATE workflow_hooks SET enabled = false, token_hash = NULL WHERE workflow_id = ${id}`;
    return c.body(null, 204);
  });

  app.openapi(listSchedulesRoute, async (c) => {
    const services = c.get("services");
    const { sql } = services;
    const { id } = c.req.valid("param");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    const rows = await sql`SELECT ${sql.unsafe(SCHEDULE_COLUMNS)} FROM workflow_schedules
      WHERE workflow_id = ${id} ORDER BY created_at, id`;
    return c.json({ items: rows.map((r) => presentSchedule(services, r)) } as never, 200);
  });

  app.openapi(createScheduleRoute, async (c) => {
    const services = c.get("services");
    const { sql, config, temporal } = services;
    const { id } = c.req.valid("param");
    const { cron, input, paused, ...body } = c.req.valid("json");
    const ownerId = c.get("user").id;
    await getOwnedWorkflow(sql, id, ownerId);
    const scheduleId = crypto.randomUUID();
    const temporalId = temporalScheduleId(scheduleId);
    const timezone = canonicalTimeZone(body.timezone);
    // The row comes first: each firing's activity checks it exists, and a firing can follow creation at once.
    const [row] = await sql`
      INSERT INTO workflow_schedules (id, workflow_id, owner_id, cron, timezone, input, paused, temporal_schedule_id)
      VALUES (${scheduleId}, ${id}, ${ownerId}, ${cron}, ${timezone}, ${sql.json(input as never)}, ${paused},
              ${temporalId})
      RETURNING ${sql.unsafe(SCHEDULE_COLUMNS)}`;
    try {
      await createTemporalSchedule(temporal, config.WEFT_TASK_QUEUE, temporalId, { cron, timezone, paused }, {
        workflowId: id,
        ownerId,
        input,
        scheduleId,
        searchAttributes: config.TEMPORAL_SEARCH_ATTRIBUTES,
        gpuTaskQueue: config.WEFT_GPU_TASK_QUEUE,
      });
    } catch (err) {
      await sql`DELETE FROM workflow_schedules WHERE id = ${scheduleId}`;
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
    return c.json(presentSchedule(services, row) as never, 201);
  });

  app.openapi(deleteScheduleRoute, async (c) => {
    const { sql, temporal } = c.get("services");
    const { id, schedule_id } = c.req.valid("param");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    const [row] = await sql`SELECT temporal_schedule_id FROM workflow_schedules
      WHERE id = ${schedule_id} AND workflow_id = ${id}`;
    if (!row) throw notFound("schedule");
    try {
      await deleteTemporalSchedule(temporal, row.temporal_schedule_id as string);
    } catch (err) {
      // The row stays, so the delete can be retried and the schedule is not lost track of.
      c.get("logger").error("temporal schedule delete failed", { schedule_id, error: String(err) });
      throw engineUnavailable("the schedule was not deleted");
    }
    await sql`DELETE FROM workflow_schedules WHERE id = ${schedule_id}`;
    return c.body(null, 204);
  });

  return app;
}
