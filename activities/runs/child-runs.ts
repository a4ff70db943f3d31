/**
 * Runs a run starts (core/control-nodes.ts): a sub_workflow node's or a map item's child run, and a failed run's
 * error run. Each is a normal Weft run in the parent's workspace, started by whoever started the parent, inserted
 * here under the id the workflow chose (so a retried call finds the row it inserted) and linked to its parent, with
 * its `run.started` audit row (actor `system`); the workflow then starts its runDag.
 */
import type { ChildRunCreated, CreateChildRun, CreateErrorRun, WorkflowSnapshot } from "../../core/contract.ts";
import { appendAudit } from "../../db/audit-log.ts";
import type { Sql } from "../../db/client.ts";
import { insertRun, InvalidGraphError, type NewRun, type SnapshotSource, snapshotWorkflow } from "../../db/runs.ts";
import { nonRetryable } from "../errors.ts";
import { refused, type RunGuard } from "./run-guard.ts";

export function createChildRuns(sql: Sql, guard: RunGuard) {
  /** The run's row if an earlier attempt inserted it already. */
  async function existing(runId: string, workspaceId: string): Promise<ChildRunCreated | null> {
    const [row] = await sql`
      SELECT snapshot, input FROM workflow_runs WHERE id = ${runId} AND workspace_id = ${workspaceId}`;
    return row
      ? {
        runId,
        ownerId: workspaceId,
        snapshot: row.snapshot as WorkflowSnapshot,
        input: row.input as Record<string, unknown>,
      }
      : null;
  }

  /** Who started the run (null: an API key, a webhook or a schedule); its child runs are theirs too. */
  async function starterOf(runId: string): Promise<string | null> {
    const [row] = await sql`SELECT owner_id FROM workflow_runs WHERE id = ${runId}`;
    return (row?.owner_id as string | null | undefined) ?? null;
  }

  /** The workflow's graph at that version ("latest": its current graph), if it is in the run's workspace. */
  async function snapshotOf(workflowId: string, workspaceId: string, version: "latest" | number) {
    const [workflow] = await sql<SnapshotSource[]>`
      SELECT id, version, max_parallel, on_failure FROM workflows
      WHERE id = ${workflowId} AND workspace_id = ${workspaceId} AND deleted_at IS NULL`;
    if (!workflow) {
      throw nonRetryable(
        "WorkflowNotFound",
        `workflow ${workflowId} does not exist (or is not in the run's workspace)`,
      );
    }
    if (version !== "latest") {
      const [row] = await sql`
        SELECT snapshot FROM workflow_versions WHERE workflow_id = ${workflowId} AND version = ${version}`;
      if (!row) throw nonRetryable("WorkflowNotFound", `workflow ${workflowId} has no version ${version}`);
      return row.snapshot as WorkflowSnapshot;
    }
    try {
      return await snapshotWorkflow(sql, workflow);
    } catch (err) {
      if (err instanceof InvalidGraphError) throw nonRetryable("InvalidGraph", err.message, { errors: err.errors });
      throw err;
    }
  }

  /** The run and its audit row together: started by the system, for the parent run (node). */
  async function insert(run: NewRun & { parent: { runId: string; node: string | null } }): Promise<ChildRunCreated> {
    const label = run.parent.node === null
      ? `error workflow of run ${run.parent.runId}`
      : `${run.trigger} node "${run.parent.node}" of run ${run.parent.runId}`;
    await sql.begin(async (tx) => {
      const t = tx as unknown as Sql;
      await insertRun(t, run);
      await appendAudit(t, {
        workspaceId: run.workspaceId,
        actor: { type: "system", id: null, label },
        action: "run.started",
        resource: { type: "run", id: run.runId },
        details: {
          workflow_id: run.workflowId,
          trigger: run.trigger,
          parent_run_id: run.parent.runId,
          parent_node: run.parent.node,
        },
      });
    });
    // ownerId: the tenant (the workspace), as in ScheduledRunInput; it names the run's search attributes.
    return { runId: run.runId, ownerId: run.workspaceId, snapshot: run.snapshot, input: run.input as never };
  }

  return {
    async createChildRun(req: CreateChildRun): Promise<ChildRunCreated> {
      const parent = await guard.forRun(req.parentRunId);
      // Only a node of the parent's graph that runs that workflow may start a run of it.
      const node = [...parent.nodes.values()].find((n) => n.name === req.parentNode);
      if (!node || (node.config as { workflow_id?: unknown }).workflow_id !== req.workflowId) {
        throw refused(`node "${req.parentNode}" of run ${req.parentRunId} does not run workflow ${req.workflowId}`);
      }
      await guard.checkLive(parent);
      const created = await existing(req.runId, parent.workspaceId) ?? await insert({
        runId: req.runId,
        workflowId: req.workflowId,
        workspaceId: parent.workspaceId,
        startedBy: await starterOf(req.parentRunId),
        input: req.input,
        snapshot: await snapshotOf(req.workflowId, parent.workspaceId, req.version),
        trigger: req.trigger,
        parent: { runId: req.parentRunId, node: req.parentNode },
      });
      if (req.item) {
        await sql`UPDATE map_items SET child_run_id = ${req.runId}, status = 'running', attempts = attempts + 1,
                    updated_at = now()
                  WHERE run_id = ${req.parentRunId} AND node_id = ${req.item.nodeId} AND index = ${req.item.index}`;
      }
      return created;
    },

    async createErrorRun(req: CreateErrorRun): Promise<ChildRunCreated | null> {
      const failed = await guard.forRun(req.failedRunId);
      const [row] = await sql`
        SELECT r.trigger, r.input, w.id AS workflow_id, w.name AS workflow_name, w.error_workflow_id
        FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id WHERE r.id = ${req.failedRunId}`;
      // Runs of an error workflow never start another.
      if (!row?.error_workflow_id || row.trigger === "error") return null;
      const done = await existing(req.runId, failed.workspaceId);
      if (done) return done;
      const input = {
        run_id: req.failedRunId,
        workflow_id: row.workflow_id,
        workflow_name: row.workflow_name,
        failed_node: req.failure.node ?? null,
        error: { message: req.failure.message },
        input: row.input,
      };
      try {
        return await insert({
          runId: req.runId,
          workflowId: row.error_workflow_id as string,
          workspaceId: failed.workspaceId,
          startedBy: await starterOf(req.failedRunId),
          input,
          snapshot: await snapshotOf(row.error_workflow_id as string, failed.workspaceId, "latest"),
          trigger: "error",
          parent: { runId: req.failedRunId, node: null },
        });
      } catch (err) {
        // An error workflow that cannot run (deleted, invalid graph) must not keep the failed run from ending.
        if ((err as { nonRetryable?: boolean }).nonRetryable) return null;
        throw err;
      }
    },
  };
}
