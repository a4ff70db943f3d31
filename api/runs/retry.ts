/** Re-running a failed or cancelled run: every successful output is reused, only what failed or follows runs. */
import { inlineOrRef } from "../../core/output-ref.ts";
import { planReuse } from "../../core/reuse.ts";
import type { WorkflowSnapshot } from "../../core/snapshot.ts";
import type { Sql } from "../../db/client.ts";
import { snapshotWorkflow } from "../../db/runs.ts";
import { ApiError } from "../errors.ts";
import { auditRow } from "../workspaces/audit.ts";
import type { AppRouteHandler } from "../openapi.ts";
import { getOwnedWorkflow } from "../workflows/store.ts";
import type { retryRunRoute } from "./routes.ts";
import { startRun } from "./start.ts";
import { getOwnedRun, runSnapshot, succeededOutputs } from "./store.ts";

/** The outputs to reuse by node id; large ones by reference to the earlier run's execution, not copied. */
async function reusableOutputs(sql: Sql, runId: string) {
  const rows = await succeededOutputs(sql, runId);
  return new Map(rows.map((r) => [r.node_id, inlineOrRef(runId, r.node_id, r.output)]));
}

export const retry: AppRouteHandler<typeof retryRunRoute> = async (c) => {
  const services = c.get("services");
  const { sql } = services;
  const { id, run_id } = c.req.valid("param");
  const { version } = c.req.valid("json") ?? {};
  const actor = c.get("actor");
  const workspaceId = c.get("workspace").id;
  const old = await getOwnedRun(sql, id, run_id, workspaceId);
  if (old.status !== "failed" && old.status !== "cancelled") {
    throw new ApiError("CONFLICT", `only a failed or cancelled run can be re-run; this one is ${old.status}`, {
      status: old.status,
    });
  }
  // After the run's own checks: a run outlives its workflow, but re-running needs the workflow.
  const workflow = await getOwnedWorkflow(sql, id, workspaceId);
  const previous = await runSnapshot(sql, run_id);
  // An invalid current graph is answered INVALID_GRAPH by the error mapper (api/errors.ts).
  const next: WorkflowSnapshot = version === "latest" ? await snapshotWorkflow(sql, workflow) : previous;
  const reuse = planReuse(previous, next, await reusableOutputs(sql, run_id));
  const started = await startRun(services, c.get("logger"), {
    workflow,
    workspaceId,
    startedBy: actor.type === "user" ? actor.id : null,
    actorId: actor.id,
    input: old.input,
    trigger: "retry",
    retryOf: run_id,
    snapshot: next,
    reuse,
    audit: (runId) =>
      auditRow(c, {
        action: "run.retried",
        resource: { type: "run", id: runId },
        details: { workflow_id: id, retry_of: run_id, version: version ?? "pinned" },
      }),
  });
  const names = next.nodes.filter((n) => Object.hasOwn(reuse, n.id)).map((n) => n.name);
  return c.json({ ...started, retry_of: run_id, reused: names }, 202);
};
