/** Run status bookkeeping in PostgreSQL, called by the workflow as local activities. */
import type {
  ApprovalDecisionRecord,
  ApprovalRecord,
  ControlNodeRecord,
  FinishRun,
  NodeOutcome,
} from "../../core/contract.ts";
import { CONTROL_NODE_TYPES } from "../../core/node-kinds.ts";
import type { Sql } from "../../db/client.ts";
import { runDuration, runsFinished } from "../metrics.ts";
import { ATTEMPT_LOST, recordLostAttempts } from "../../db/lost-attempts.ts";
import { currentRunTimedOutAttempts } from "./lost-last-attempts.ts";
import { createRunGuard, type RunBinding, type RunGuard } from "./run-guard.ts";

/** A run that has finished is never written again (run-guard.ts: whoever replays its workflow changes nothing). */
const LIVE = "('pending', 'running', 'waiting')";

export function createRunBookkeeping(sql: Sql, guard: RunGuard = createRunGuard(sql)) {
  const live = (runId: string) =>
    sql`EXISTS (SELECT 1 FROM workflow_runs WHERE id = ${runId} AND status IN ${sql.unsafe(LIVE)})`;
  /**
   * Nodes whose last attempt was lost with its worker (lost-last-attempts.ts): every attempt up to and including
   * it gets its row (a `running` one is closed), as the next attempt would have done. Best effort: a history
   * that cannot be read must not keep the run from finishing.
   */
  const recordLostLastAttempts = async (run: RunBinding, runId: string) => {
    // Nothing runs once the workflow finishes (it waits for every activity, cancelled ones included): a row still
    // `running` is an attempt lost with its worker, a group member's among them.
    await sql`UPDATE node_executions SET status = 'failed', finished_at = now(), error = ${sql.json(ATTEMPT_LOST)}
      WHERE run_id = ${runId} AND status = 'running'`;
    let lost: Awaited<ReturnType<typeof currentRunTimedOutAttempts>>;
    try {
      // Bounded well inside the local activity's 30 s, so a slow Temporal cannot hold up the run's end.
      let timer: ReturnType<typeof setTimeout> | undefined;
      lost = await Promise.race([
        currentRunTimedOutAttempts(),
        new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error("history read timed out")), 5000)),
      ]).finally(() => clearTimeout(timer));
    } catch {
      return;
    }
    const byName = new Map([...run.nodes.values()].map((n) => [n.name, n]));
    for (const { nodeName, attempt } of lost) {
      const node = byName.get(nodeName);
      if (node) await recordLostAttempts(sql, runId, node, attempt + 1);
    }
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

  return {
    async setRunStatus({ runId, status }: { runId: string; status: "running" | "waiting" }): Promise<void> {
      await guard.forRun(runId);
      await sql`UPDATE workflow_runs SET status = ${status} WHERE id = ${runId} AND status IN ('running', 'waiting')`;
    },
    async recordApprovalWaiting(r: ApprovalRecord): Promise<void> {
      await startAttemptOne({ ...r, type: "approval", status: "waiting" }, ["approval"]);
    },
    /** A control-flow node's one execution (workflows/nodes/): waiting or running, then recordControlFinished. */
    recordControlStarted: (r: ControlNodeRecord) => startAttemptOne(r, CONTROL_NODE_TYPES),
    recordApprovalDecision: (r: ApprovalDecisionRecord) => finishAttemptOne(r),
    recordControlFinished: (r: ApprovalDecisionRecord) => finishAttemptOne(r),
    async markRunStarted(runId: string): Promise<void> {
      await guard.forRun(runId);
      await sql`UPDATE workflow_runs SET status = 'running', started_at = coalesce(started_at, now())
                WHERE id = ${runId} AND status = 'pending'`;
    },
    async markRunFinished(finish: FinishRun): Promise<void> {
      const run = await guard.forRun(finish.runId);
      if (finish.status !== "succeeded") await recordLostLastAttempts(run, finish.runId);
      const [row] = await sql`
        UPDATE workflow_runs SET status = ${finish.status}, output = ${sql.json(finish.output as never)},
          error = ${finish.error ? sql.json(finish.error as never) : null}, finished_at = now()
        WHERE id = ${finish.runId} AND status IN ${sql.unsafe(LIVE)}
        RETURNING extract(epoch FROM finished_at - created_at)::float8 AS seconds`;
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
        error: o.reason ? sql.json({ message: o.reason, type: o.status === "skipped" ? "Skipped" : "Reused" }) : null,
        finished_at: new Date(),
        duration_ms: 0,
      }));
      const [{ ok }] = await sql`SELECT ${live(runId)} AS ok`;
      if (!ok) return;
      await sql`INSERT INTO node_executions ${sql(rows as never)} ON CONFLICT (run_id, node_id, attempt) DO NOTHING`;
    },
  };
}
