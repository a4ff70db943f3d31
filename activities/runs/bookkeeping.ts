/** Run status bookkeeping in PostgreSQL, called by the workflow as local activities. */
import {
  type ApprovalDecisionRecord,
  type ApprovalRecord,
  type ControlNodeRecord,
  type FailureType,
  type FinishRun,
  LIVE_RUN_STATUSES,
  type NodeError,
  type NodeOutcome,
  type SnapshotNode,
} from "../../core/contract.ts";
import type { Sql } from "../../db/client.ts";
import { runDuration, runsFinished } from "../metrics.ts";
import { ATTEMPT_LOST, recordLostAttempts } from "../../db/lost-attempts.ts";
import { currentRunTimedOutAttempts } from "./lost-last-attempts.ts";
import { createRunGuard, type RunBinding, type RunGuard } from "./run-guard.ts";
import { failsForGood, nodePolicy } from "../../core/node-policy.ts";
import { CONTROL_NODE_TYPES } from "../../core/node-kinds.ts";

/** The error type a node the workflow decided about without running it records. */
const OUTCOME_TYPE: Record<NodeOutcome["status"], FailureType> = { skipped: "Skipped", reused: "Reused" };
/** A run that has finished is never written again (run-guard.ts: whoever replays its workflow changes nothing). */
const LIVE = `(${LIVE_RUN_STATUSES.map((s) => `'${s}'`).join(", ")})`;

export function createRunBookkeeping(sql: Sql, guard: RunGuard = createRunGuard(sql)) {
  const live = (runId: string) =>
    sql`EXISTS (SELECT 1 FROM workflow_runs WHERE id = ${runId} AND status IN ${sql.unsafe(LIVE)})`;
  /**
   * Nodes whose last attempt was lost with its worker (lost-last-attempts.ts): every attempt up to and including
   * it gets its row (a `running` one is closed), as the next attempt would have done; so does each member of a
   * group whose last attempt was lost, when that member had not finished (lostGroupMembers). Best effort: a
   * history that cannot be read must not keep the run from finishing.
   */
  const recordLostLastAttempts = async (run: RunBinding, runId: string) => {
    let lost: Awaited<ReturnType<typeof currentRunTimedOutAttempts>> = { nodes: [], groups: [] };
    try {
      // Bounded inside the local activity's 30 s, so a slow Temporal cannot hold up the run's end for long; an
      // overloaded one (histories read in 5-6 s under load) still answers within it.
      let timer: ReturnType<typeof setTimeout> | undefined;
      lost = await Promise.race([
        currentRunTimedOutAttempts(),
        new Promise<never>((_, reject) =>
          timer = setTimeout(() => reject(new Error("history read timed out")), 20_000)
        ),
      ]).finally(() => clearTimeout(timer));
    } catch {
      // The rows left running are still closed below.
    }
    // Read before the rows left running are closed: a member whose last row is running is the attempt lost.
    const members = await lostGroupMembers(sql, run, runId, lost.groups.flat());
    // Nothing runs once the workflow finishes (it waits for every activity, cancelled ones included): a row still
    // `running` is an attempt lost with its worker, a group member's among them.
    await sql`UPDATE node_executions SET status = 'failed', finished_at = now(), error = ${sql.json(ATTEMPT_LOST)}
      WHERE run_id = ${runId} AND status = 'running'`;
    const byName = new Map([...run.nodes.values()].map((n) => [n.name, n]));
    for (const { nodeName, attempt } of lost.nodes) {
      const node = byName.get(nodeName);
      if (node) await recordLostAttempts(sql, runId, node, attempt + 1);
    }
    for (const { node, attempt } of members) await recordLostAttempts(sql, runId, node, attempt + 1);
  };
  /** The one execution (attempt 1) of an approval or control-flow node, if the run's graph has that node. */
  async function startAttemptOne(r: ControlNodeRecord, types: Iterable<string>): Promise<void> {
    const run = await guard.forRun(r.runId);
    const type = run.nodes.get(r.node_id)?.type;
    if (type !== r.type || !new Set(types).has(type)) return;
    await sql`
      INSERT INTO node_executions (run_id, node_id, node_name, type, status, attempt, input)
      SELECT ${r.runId}, ${r.node_id}, ${r.node_name}, ${r.type}, ${r.status}, 1, ${sql.json(r.input as never)}
      WHERE ${live(r.runId)}
      ON CONFLICT (run_id, node_id, attempt) DO NOTHING`;
  }

  async function finishAttemptOne(r: ApprovalDecisionRecord): Promise<void> {
    await guard.forRun(r.runId);
    await sql`
      UPDATE node_executions SET status = ${r.status}, finished_at = now(),
        output = ${r.output === undefined ? null : sql.json(r.output as never)},
        error = ${r.error ? sql.json(r.error as never) : null},
        duration_ms = (extract(epoch FROM now() - started_at) * 1000)::int
      WHERE run_id = ${r.runId} AND node_id = ${r.node_id} AND attempt = 1 AND ${live(r.runId)}`;
  }

  /** pending → running; whether it moved. */
  const startRun = async (runId: string) =>
    (await sql`UPDATE workflow_runs SET status = 'running', started_at = coalesce(started_at, now())
               WHERE id = ${runId} AND status = 'pending' RETURNING 1`).length > 0;

  return {
    async setRunStatus({ runId, status }: { runId: string; status: "running" | "waiting" }): Promise<void> {
      await guard.forRun(runId);
      // A wait may be what begins a run (no node row yet): it starts it as well (see markRunStarted).
      await sql`UPDATE workflow_runs SET status = ${status}, started_at = coalesce(started_at, now())
                WHERE id = ${runId} AND status IN ('pending', 'running', 'waiting')`;
    },
    async recordApprovalWaiting(r: ApprovalRecord): Promise<void> {
      await startAttemptOne({ ...r, type: "approval", status: "waiting" }, ["approval"]);
    },
    /** A control-flow node's one execution (workflows/nodes/): waiting or running, then recordControlFinished. */
    recordControlStarted: (r: ControlNodeRecord) => startAttemptOne(r, CONTROL_NODE_TYPES),
    recordApprovalDecision: (r: ApprovalDecisionRecord) => finishAttemptOne(r),
    recordControlFinished: (r: ApprovalDecisionRecord) => finishAttemptOne(r),
    /**
     * Only histories from before the `weft-lean-bookkeeping` patch call this: newer runs are marked running by their
     * first node_executions row (migration 041), a wait (setRunStatus), or markRunFinished.
     */
    async markRunStarted(runId: string): Promise<void> {
      await guard.forRun(runId);
      await startRun(runId);
    },
    async markRunFinished(finish: FinishRun): Promise<void> {
      const run = await guard.forRun(finish.runId);
      if (finish.status !== "succeeded") await recordLostLastAttempts(run, finish.runId);
      const end = () =>
        sql`UPDATE workflow_runs SET status = ${finish.status}, output = ${sql.json(finish.output as never)},
              error = ${finish.error ? sql.json(finish.error as never) : null}, finished_at = now()
            WHERE id = ${finish.runId} AND status IN ('running', 'waiting')
            RETURNING extract(epoch FROM finished_at - created_at)::float8 AS seconds`;
      let [row] = await end();
      // A run no row began (no nodes, or none recorded) is still pending: it shows running first, as every run does.
      if (!row && (await startRun(finish.runId))) [row] = await end();
      // A local activity may run twice (a retried workflow task): counts are at least once, not exactly once.
      if (row) {
        runsFinished.inc({ status: finish.status });
        runDuration.observe({ status: finish.status }, Number(row.seconds));
      }
    },
    async recordNodeOutcomes({ runId, outcomes }: { runId: string; outcomes: NodeOutcome[] }): Promise<void> {
      const run = await guard.forRun(runId);
      if (!outcomes.length) return;
      // A reused output is a value or a reference to one of the owner's runs (run-guard checks which).
      await guard.checkRefs(run, Object.fromEntries(outcomes.map((o) => [o.node_id, { output: o.output }])));
      if (outcomes.some((o) => !run.nodes.has(o.node_id))) return;
      const rows = outcomes.map((o) => ({
        run_id: runId,
        node_id: o.node_id,
        node_name: o.node_name,
        type: o.type,
        status: o.status,
        attempt: 0,
        output: o.output === undefined ? null : sql.json(o.output as never),
        error: o.reason ? sql.json({ message: o.reason, type: OUTCOME_TYPE[o.status] }) : null,
        finished_at: new Date(),
        duration_ms: 0,
      }));
      const [{ ok }] = await sql`SELECT ${live(runId)} AS ok`;
      if (!ok) return;
      await sql`INSERT INTO node_executions ${sql(rows as never)} ON CONFLICT (run_id, node_id, attempt) DO NOTHING`;
    },
  };
}

/**
 * Members of groups whose last attempt was lost that had not finished, with the attempt the group lost: the one
 * whose row was left running, or the next one when the member had not begun it (no row yet, or between attempts).
 * A member that succeeded, failed for good (not retryable, or out of attempts) or was lost with its row already
 * recorded needs nothing.
 */
async function lostGroupMembers(sql: Sql, run: RunBinding, runId: string, nodeIds: string[]) {
  const nodes = [...new Set(nodeIds)].flatMap((id) => run.nodes.get(id) ?? []);
  if (!nodes.length) return [];
  // Once the run has finished its rows are complete (this local activity may run again): nothing more to add.
  const [{ live }] = await sql`SELECT EXISTS (SELECT 1 FROM workflow_runs WHERE id = ${runId}
    AND status IN ${sql.unsafe(LIVE)}) AS live`;
  if (!live) return [];
  const rows = await sql<{ node_id: string; attempt: number; status: string; error: NodeError | null }[]>`
    SELECT DISTINCT ON (node_id) node_id, attempt, status, error FROM node_executions
    WHERE run_id = ${runId} AND node_id IN ${sql(nodes.map((n) => n.id))} ORDER BY node_id, attempt DESC`;
  const last = new Map(rows.map((r) => [r.node_id, r]));
  const lost: { node: SnapshotNode; attempt: number }[] = [];
  for (const node of nodes) {
    const row = last.get(node.id);
    const policy = nodePolicy(node.config);
    if (!row) lost.push({ node, attempt: 1 });
    else if (row.status === "running") lost.push({ node, attempt: row.attempt });
    else if (row.status === "failed" && row.error && !failsForGood(policy, row.error, row.attempt)) {
      lost.push({ node, attempt: row.attempt + 1 });
    }
  }
  return lost;
}
