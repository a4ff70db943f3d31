/**
 * The node activities: one node as its own activity (Temporal retries it), or sibling nodes as one group
 * (node-group.ts). Each attempt renders, records, dispatches by type and records again (node-attempt.ts).
 */
import { Context } from "@temporalio/activity";
import type { ExecuteNodeInput } from "../core/contract.ts";
import type { Sql } from "../db/client.ts";
import { recordLostAttempts } from "../db/lost-attempts.ts";
import type { DbTargets } from "./db/index.ts";
import type { ExpressionPool } from "./expressions/pool.ts";
import type { EgressPolicy } from "./http/egress-policy.ts";
import { type AttemptDeps, createAttemptRunner, EarlierAttempt } from "./node-attempt.ts";
import { resumeLocalNode } from "./local-node.ts";
import { createNodeGroup } from "./node-group.ts";
import { createHandlers, createRender, type Handler } from "./node-handlers.ts";
import { createRunGuard, type RunGuard } from "./runs/run-guard.ts";
import type { ResolveSecrets } from "./secrets.ts";

export { type Handler, type Render, renderConfig } from "./node-handlers.ts";

const HEARTBEAT_EVERY_MS = 1000;

/**
 * What a node attempt needs, for node activities and map items alike: `extra` adds handlers for more node types
 * (the GPU queue's llm_call and faiss_search); `expressions` evaluates templates and transforms away from this
 * event loop.
 */
export function nodeAttemptDeps(
  sql: Sql,
  egress: EgressPolicy,
  db: DbTargets,
  extra: Record<string, Handler>,
  expressions: ExpressionPool,
  resolveSecrets: ResolveSecrets,
): AttemptDeps {
  const handlers: Record<string, Handler> = { ...createHandlers(egress, db, expressions), ...extra };
  return { sql, handlers, render: createRender(expressions), resolveSecrets };
}

export function createExecuteNode(attemptDeps: AttemptDeps, guard: RunGuard = createRunGuard(attemptDeps.sql)) {
  const { sql } = attemptDeps;
  const runAttempt = createAttemptRunner(attemptDeps);

  /**
   * One node as its own Temporal activity, or as a local activity (workflows/activity-options.ts): Temporal
   * retries it; a regular activity's attempt is Temporal's, a local one goes on from what was recorded.
   */
  async function executeNode(input: ExecuteNodeInput): Promise<unknown> {
    const ctx = Context.current();
    if (ctx.info.isLocal) return await executeLocally(input, ctx);
    const attempt = ctx.info.attempt;
    // Heartbeats let Temporal notice a dead worker quickly and deliver cancellation to this attempt; they start
    // before the run guard's lookup and any bookkeeping write, so a slow query under load is not mistaken for a
    // dead worker (a guard lookup stalled 10 s on a busy PostgreSQL lost a last attempt: docs/benchmarks.md).
    const heartbeat = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
    try {
      await guard.forNodes(input.runId, [input.node], input.context);
      // A first attempt has no earlier ones, so the common path skips this write.
      if (attempt > 1) await recordLostAttempts(sql, input.runId, input.node, attempt);
      return await runAttempt(input, attempt, ctx.cancellationSignal);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * A local activity cannot heartbeat: a lost worker shows as its workflow task timing out instead. Temporal's
   * first attempt of it runs without reading earlier rows: its own first write keeps a row an earlier try of the
   * workflow task left (EarlierAttempt), and only then is that row read and gone on from (local-node.ts).
   */
  async function executeLocally(input: ExecuteNodeInput, ctx: Context): Promise<unknown> {
    await guard.forNodes(input.runId, [input.node], input.context);
    if (ctx.info.attempt === 1) {
      try {
        return await runAttempt(input, 1, ctx.cancellationSignal, "local", true);
      } catch (err) {
        if (!(err instanceof EarlierAttempt)) throw err;
      }
    }
    const start = await resumeLocalNode(sql, input.runId, input.node, ctx.info.attempt);
    if (start.done) return start.output;
    return await runAttempt(input, start.attempt, ctx.cancellationSignal, "local");
  }

  /** Sibling nodes as one activity, each member retried here with its own policy (node-group.ts). */
  const runMemberAttempt = createAttemptRunner({ ...attemptDeps, runningRowFirst: true });
  const executeNodeGroup = createNodeGroup({ sql, guard, runAttempt: runMemberAttempt });

  return { executeNode, executeNodeGroup };
}
