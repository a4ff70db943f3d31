/** The activity behind scheduled runs: snapshot the workflow's current version and insert its run row. */
import { type CreateScheduledRun, type ScheduledRunCreated, WORKFLOW_TYPES, workflowIds } from "../../core/contract.ts";
import type { WorkflowSnapshot } from "../../core/snapshot.ts";
import type { Sql } from "../../db/client.ts";
import { insertRun, InvalidGraphError, type SnapshotSource, snapshotWorkflow } from "../../db/runs.ts";
import { appendAudit } from "../../db/audit-log.ts";
import { nonRetryable } from "../errors.ts";
import { currentWorkflow, refused } from "./run-guard.ts";

export function createRunScheduling({ sql }: { sql: Sql }) {
  return {
    async createScheduledRun(req: CreateScheduledRun): Promise<ScheduledRunCreated> {
      // Only a firing of the Temporal Schedule Weft made for this schedule (Temporal appends the firing time).
      const wf = currentWorkflow();
      if (wf.type !== WORKFLOW_TYPES.scheduledRun || !wf.id.startsWith(`${workflowIds.schedule(req.scheduleId)}-`)) {
        throw refused(`workflow ${wf.type} ${wf.id} is not a firing of schedule ${req.scheduleId}`);
      }
      const [existing] = await sql`SELECT snapshot, input FROM workflow_runs
        WHERE id = ${req.runId} AND workflow_id = ${req.workflowId} AND workspace_id = ${req.ownerId}
          AND trigger = 'schedule'`;
      if (existing) {
        return { runId: req.runId, snapshot: existing.snapshot as WorkflowSnapshot, input: existing.input as never };
      }
      // The schedule row must still exist too: a Temporal schedule left behind by a failed delete runs nothing.
      // All columns: snapshotWorkflow reads the workflow settings a run pins (version, max_parallel, ...).
      // A schedule of that tenant that still exists; its input is the one the schedule stores, not what arrived.
      const [workflow] = await sql<(SnapshotSource & { schedule_input: unknown; schedule_cron: string })[]>`
        SELECT w.*, s.input AS schedule_input, s.cron AS schedule_cron FROM workflows w
        JOIN workflow_schedules s ON s.workflow_id = w.id AND s.id = ${req.scheduleId}
        WHERE w.id = ${req.workflowId} AND w.workspace_id = ${req.ownerId} AND w.deleted_at IS NULL`;
      if (!workflow) {
        throw nonRetryable(
          "WorkflowNotFound",
          `workflow ${req.workflowId} (schedule ${req.scheduleId}) no longer exists; no run was created`,
        );
      }
      let snapshot: WorkflowSnapshot;
      try {
        snapshot = await snapshotWorkflow(sql, workflow);
      } catch (err) {
        if (err instanceof InvalidGraphError) throw nonRetryable("InvalidGraph", err.message, { errors: err.errors });
        throw err;
      }
      const input = (workflow.schedule_input ?? {}) as Record<string, unknown>;
      // The run and its audit row together; the run is attributed to its schedule, not a person.
      await sql.begin(async (tx) => {
        const t = tx as unknown as Sql;
        await insertRun(t, {
          runId: req.runId,
          workflowId: req.workflowId,
          workspaceId: req.ownerId,
          startedBy: null,
          input,
          snapshot,
          trigger: "schedule",
        });
        await appendAudit(t, {
          workspaceId: req.ownerId,
          actor: { type: "schedule", id: req.scheduleId, label: `schedule ${String(workflow.schedule_cron)}` },
          action: "run.started",
          resource: { type: "run", id: req.runId },
          details: { workflow_id: req.workflowId, trigger: "schedule" },
        });
      });
      return { runId: req.runId, snapshot, input };
    },
  };
}
