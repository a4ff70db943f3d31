/** Runs one node of a run: render its config, record the attempt, dispatch by type, record the result. */
import { Context } from "@temporalio/activity";
import { ApplicationFailure } from "@temporalio/common";
import {
  type ExecuteNodeGroupInput,
  type ExecuteNodeInput,
  type FailureType,
  type GroupOutcome,
  type NodeError,
  outputRef,
  type SnapshotNode,
} from "../core/contract.ts";
import { TemplateError } from "../core/template.ts";
import type { Sql } from "../db/client.ts";
import { createRedactor } from "../core/redact.ts";
import { placedSecrets, renderWithSecrets, secretPlacementProblems } from "../core/secret-placement.ts";
import { isNodeType, nodeKinds } from "../core/node-kinds.ts";
import { describeError, nonRetryable, retryable } from "./errors.ts";
import type { ResolveSecrets } from "./secrets.ts";
import type { EgressPolicy } from "./http/egress-policy.ts";
import { checkConnection, createDbWrite, type DbTargets } from "./db/index.ts";
import { httpRequest } from "./http/index.ts";
import { resolveContext } from "../db/output-refs.ts";
import { type AttemptEnd, createNodeExecutionLog } from "../db/node-executions.ts";
import { INLINE_OUTPUT_LIMIT_BYTES, isOutputRef, jsonBytes } from "../core/output-ref.ts";
import { backoffMs, nodePolicy, RECORD_SLACK_MS } from "../core/node-policy.ts";
import { transform } from "./transform/index.ts";
import { nodeDuration } from "./metrics.ts";
import { withSpan } from "../core/tracing.ts";
import { createRunGuard, refused, type RunGuard } from "./runs/run-guard.ts";
import { ExpressionLimitError, type ExpressionPool } from "./expressions/pool.ts";
import { deadlineSignal, withDeadline } from "./deadline.ts";
import { ATTEMPT_LOST, recordLostAttempts } from "../db/lost-attempts.ts";

/** Renders a config's `{{ }}` templates (in the expression pool, under its bounds). */
export type Render = (
  config: Record<string, unknown>,
  context: Record<string, unknown>,
) => Promise<Record<string, unknown>>;

export interface Handler {
  /**
   * The handler enforces `timeout_ms` itself with a more precise failure (a transform's expression pool kills
   * the evaluation and says so, non-retryable): the attempt's own deadline then only backs it up, a moment later.
   */
  enforcesTimeout?: boolean;
  /** Refuses a config before its secrets are resolved (a form that is no longer accepted). */
  check?(config: Record<string, unknown>): void;
  /** What the node execution records as its input: the config with templates rendered by `render`. */
  prepare(
    config: Record<string, unknown>,
    context: Record<string, unknown>,
    render: Render,
  ): Promise<Record<string, unknown>>;
  run(
    prepared: Record<string, unknown>,
    context: Record<string, unknown>,
    signal: AbortSignal,
    meta: { runId: string; nodeId: string; nodeName: string; attempt: number },
  ): Promise<unknown>;
}

/** A handler's `prepare` that renders the whole config. */
export const renderConfig: Handler["prepare"] = (config, context, render) => render(config, context);

function createRender(expressions: ExpressionPool): Render {
  return async (config, context) => {
    try {
      return (await expressions.render(config, context)) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof ExpressionLimitError) throw nonRetryable("ExpressionLimit", err.message);
      throw err instanceof TemplateError ? nonRetryable("TemplateError", err.message) : err;
    }
  };
}

function createHandlers(
  egress: EgressPolicy,
  db: DbTargets,
  expressions: ExpressionPool,
): Record<string, Handler> {
  const dbWrite = createDbWrite(db);
  return {
    http_request: { prepare: renderConfig, run: (config, _context, signal) => httpRequest(config, signal, egress) },
    transform: {
      enforcesTimeout: true,
      prepare: (config) => Promise.resolve(config),
      run: (config, context, signal) => transform(expressions, config, context, signal),
    },
    db_write: {
      check: checkConnection,
      prepare: renderConfig,
      run: (config, _context, _signal, meta) => dbWrite(config, meta),
    },
  };
}

const HEARTBEAT_EVERY_MS = 1000;
/** How long after `timeout_ms` the attempt's deadline backs up a handler that enforces the timeout itself. */
const SELF_TIMEOUT_BACKUP_MS = 500;

/**
 * `extra` adds handlers for more node types (the GPU queue's llm_call and faiss_search); `expressions` evaluates
 * templates and transforms away from this event loop.
 */
export function createExecuteNode(
  sql: Sql,
  egress: EgressPolicy,
  db: DbTargets,
  extra: Record<string, Handler>,
  expressions: ExpressionPool,
  resolveSecrets: ResolveSecrets,
  guard: RunGuard = createRunGuard(sql),
) {
  const handlers: Record<string, Handler> = { ...createHandlers(egress, db, expressions), ...extra };
  const render = createRender(expressions);
  const log = createNodeExecutionLog(sql);

  /** Earlier attempts still marked running died with their worker or timed out. */
  const abandonEarlierAttempts = (runId: string, nodeIds: string[], attempt: number) =>
    sql`UPDATE node_executions SET status = 'failed', finished_at = now(), error = ${sql.json(ATTEMPT_LOST)}
        WHERE run_id = ${runId} AND node_id IN ${sql(nodeIds)} AND status = 'running' AND attempt < ${attempt}`;

  /**
   * One attempt of one node: render its config, record the attempt, run it, record the result. Returns the
   * output (a reference when large); throws the handler's error, scrubbed of secrets.
   */
  /** One attempt in a span of its own, named by the node, under the activity's span (a group runs several). */
  const runAttempt = (input: ExecuteNodeInput, attempt: number, signal: AbortSignal) =>
    withSpan(`node ${input.node.name}`, {
      "weft.run_id": input.runId,
      "weft.node_id": input.node.id,
      "weft.node_name": input.node.name,
      "weft.node_type": input.node.type,
      "weft.attempt": attempt,
    }, () => runAttemptUntraced(input, attempt, signal));

  async function runAttemptUntraced(
    { runId, node, context: given }: ExecuteNodeInput,
    attempt: number,
    signal: AbortSignal,
  ): Promise<unknown> {
    const context = await resolveContext(sql, given);
    const started = performance.now();
    const handler = handlers[node.type];
    let prepared: Record<string, unknown> | null = null;
    let prepareError: unknown = null;
    // Secret values are known only here; every spelling of them is scrubbed from everything recorded or returned.
    let scrub = <T>(value: T): T => value;
    let hasSecrets = false;
    if (!handler) {
      prepareError = nonRetryable("UnknownNodeType", `this worker has no handler for node type "${node.type}"`);
    } else {
      try {
        handler.check?.(node.config);
        // A config saved before secrets were refused inside expressions fails here, before any secret is read.
        const expressionFields = isNodeType(node.type) ? nodeKinds[node.type].expressionFields : [];
        const misplaced = secretPlacementProblems(node.type, node.config, expressionFields);
        if (misplaced.length) {
          throw nonRetryable("SecretInExpression", `${misplaced[0].path}: ${misplaced[0].message}`);
        }
        const names = placedSecrets(node.config);
        const secrets = names.length ? await resolveSecrets(runId, names) : {};
        hasSecrets = names.length > 0;
        scrub = createRedactor(Object.values(secrets));
        // Expressions render over a context without secrets; placements are filled in afterwards.
        prepared = await renderWithSecrets(node.config, secrets, (config) => handler.prepare(config, context, render));
      } catch (err) {
        prepareError = err;
      }
    }
    const id = await log.started({
      run_id: runId,
      node_id: node.id,
      node_name: node.name,
      type: node.type,
      attempt,
      input: prepared ? scrub(prepared) : null,
    });
    if (id === undefined) throw refused(`run ${runId} has finished`);
    const finish = (status: AttemptEnd["status"], output: unknown, error: unknown) => {
      const seconds = (performance.now() - started) / 1000;
      nodeDuration.observe({ type: node.type, status }, seconds);
      return log.finished({
        id,
        run_id: runId,
        status,
        output,
        error: error || null,
        duration_ms: Math.round(seconds * 1000),
      });
    };
    try {
      if (prepareError) throw prepareError;
      const meta = { runId, nodeId: node.id, nodeName: node.name, attempt };
      const run = (deadline: AbortSignal) => handler.run(prepared!, context, deadline, meta);
      const timeoutMs = nodePolicy(node.config).timeoutMs + (handler.enforcesTimeout ? SELF_TIMEOUT_BACKUP_MS : 0);
      const output = scrub((await withDeadline(timeoutMs, signal, run)) ?? null);
      await finish("succeeded", output, null);
      const bytes = jsonBytes(output);
      if (bytes <= INLINE_OUTPUT_LIMIT_BYTES) return output;
      return outputRef(runId, node.id, bytes);
    } catch (err) {
      const cancelled = signal.aborted;
      await finish(
        cancelled ? "cancelled" : "failed",
        undefined,
        scrub(describeError(cancelled ? signal.reason ?? err : err)),
      );
      // The failure goes into Temporal's history (message, stack, cause, details): when the node used a secret it
      // is replaced by a fresh failure built from the scrubbed description, which carries nothing else.
      if (hasSecrets && !cancelled) throw scrubbedFailure(err, scrub);
      throw err;
    }
  }

  /** One node as its own Temporal activity: Temporal retries it, its attempt is Temporal's. */
  async function executeNode(input: ExecuteNodeInput): Promise<unknown> {
    const ctx = Context.current();
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
   * Sibling nodes as one activity: each member runs at once with its own retry policy and timeout, retried here
   * rather than by Temporal, every attempt recorded as for a lone node. Returns each member's outcome. When this
   * activity is itself retried (its worker died), members that already ended keep their recorded outcome and
   * the others go on from their next attempt.
   */
  async function executeNodeGroup(group: ExecuteNodeGroupInput): Promise<GroupOutcome[]> {
    const ctx = Context.current();
    const { runId, members } = group;
    await guard.forNodes(runId, members.map((m) => m.node), { input: group.input, nodes: group.nodes });
    const ids = members.map((m) => m.node.id);
    const recorded = new Map<string, { attempt: number; status: string; output: unknown; error: unknown }>();
    if (ctx.info.attempt > 1) {
      await abandonEarlierAttempts(runId, ids, 2 ** 31 - 1); // every attempt still marked running
      const rows = await sql`
        SELECT DISTINCT ON (node_id) node_id, attempt, status, output, error FROM node_executions
        WHERE run_id = ${runId} AND node_id IN ${sql(ids)} AND attempt > 0 ORDER BY node_id, attempt DESC`;
      for (const r of rows) recorded.set(r.node_id as string, r as never);
    }
    const controllers = members.map(() => new AbortController());
    const counts = { running: members.length, succeeded: 0, failed: 0, cancelled: 0 };
    const heartbeat = setInterval(() => ctx.heartbeat(counts), HEARTBEAT_EVERY_MS);
    const cancelOthers = (failed: string) => {
      for (const c of controllers) {
        if (!c.signal.aborted) c.abort(new Error(`cancelled: node "${failed}" failed and the workflow fails fast`));
      }
    };
    try {
      const outcomes = await Promise.all(members.map(async (m, i): Promise<GroupOutcome> => {
        const signal = AbortSignal.any([ctx.cancellationSignal, controllers[i].signal]);
        const context = {
          input: group.input,
          nodes: Object.fromEntries(m.reads.map((name) => [name, group.nodes[name]])),
          run: { id: runId },
        };
        const outcome = await runMember(runId, m.node, context, recorded.get(m.node.id), signal);
        counts.running--;
        counts[outcome.status]++;
        if (outcome.status === "failed" && group.failFast) cancelOthers(m.node.name);
        return outcome;
      }));
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      return fitOutcomes(runId, members, outcomes);
    } finally {
      clearInterval(heartbeat);
    }
  }

  async function runMember(
    runId: string,
    node: SnapshotNode,
    context: Record<string, unknown>,
    last: { attempt: number; status: string; output: unknown; error: unknown } | undefined,
    signal: AbortSignal,
  ): Promise<GroupOutcome> {
    const policy = nodePolicy(node.config);
    const lastError = last?.error as NodeError | null | undefined;
    if (last?.status === "succeeded") return { status: "succeeded", output: last.output };
    // Otherwise the last attempt failed, was lost with its worker, or was cancelled by a worker shutting down
    // (a cancelled run never retries its group): go on unless that failure was final.
    if (last && lastError && (!lastError.retryable || last.attempt >= policy.maxAttempts)) {
      return { status: "failed", error: lastError };
    }
    for (let attempt = (last?.attempt ?? 0) + 1;; attempt++) {
      // The attempt's outer deadline, as Temporal's start-to-close timeout gives a lone node (timeout_ms itself
      // is enforced inside runAttempt). A plain timer: see deadline.ts.
      const deadline = deadlineSignal(signal, policy.timeoutMs + RECORD_SLACK_MS, () => new Error("deadline"));
      try {
        const output = await runAttempt({ runId, node, context }, attempt, deadline.signal);
        return { status: "succeeded", output };
      } catch (err) {
        if (signal.aborted) return { status: "cancelled" };
        const error = deadline.signal.aborted
          ? {
            message: `attempt timed out after ${policy.timeoutMs + RECORD_SLACK_MS} ms`,
            type: "Timeout",
            retryable: true,
          }
          : describeError(err);
        if (!error.retryable || policy.nonRetryableErrorTypes.includes(error.type) || attempt >= policy.maxAttempts) {
          return { status: "failed", error };
        }
        // A Retry-After the handler passed on wins over the policy's backoff, as it does with Temporal.
        const asked = err instanceof ApplicationFailure ? msOf(err.nextRetryDelay) : undefined;
        if (!(await sleep(asked ?? backoffMs(policy, attempt), signal))) return { status: "cancelled" };
      } finally {
        deadline.clear();
      }
    }
  }

  /**
   * Inline outputs of a group share one Temporal payload: the largest go by reference above GROUP_INLINE_BYTES
   * in all, and any above INLINE_OUTPUT_LIMIT_BYTES.
   */
  function fitOutcomes(runId: string, members: { node: SnapshotNode }[], outcomes: GroupOutcome[]) {
    const sizes = outcomes.map((o) => (o.status === "succeeded" && !isOutputRef(o.output) ? jsonBytes(o.output) : 0));
    let total = sizes.reduce((a, b) => a + b, 0);
    const largestFirst = sizes.map((bytes, i) => ({ bytes, i })).sort((a, b) => b.bytes - a.bytes);
    for (const { bytes, i } of largestFirst) {
      // An output recorded by an earlier attempt of the group comes back whole from PostgreSQL: above the
      // inline limit it goes by reference like any other.
      if ((total <= GROUP_INLINE_BYTES && bytes <= INLINE_OUTPUT_LIMIT_BYTES) || bytes === 0) break;
      outcomes[i] = { status: "succeeded", output: outputRef(runId, members[i].node.id, bytes) };
      total -= bytes;
    }
    return outcomes;
  }

  return { executeNode, executeNodeGroup };
}

/** The error as a failure that says the same with every secret spelling replaced (its Retry-After kept). */
function scrubbedFailure(err: unknown, scrub: <T>(value: T) => T): ApplicationFailure {
  const described = scrub(describeError(err));
  // The type of the failure being replaced, whatever threw it.
  const type = described.type as FailureType;
  const details = err instanceof ApplicationFailure && err.details?.length ? scrub(err.details[0]) : undefined;
  const failure = described.retryable
    ? retryable(type, described.message, details, msOf((err as ApplicationFailure)?.nextRetryDelay))
    : nonRetryable(type, described.message, details);
  failure.stack = `${described.type}: ${described.message}`;
  return failure;
}

/** Above this many bytes of inline outputs, a group's largest outputs are handed back by reference. */
const GROUP_INLINE_BYTES = 512 * 1024;

const msOf = (d: unknown): number | undefined =>
  typeof d === "number" ? d : typeof d === "string" && /^\d+$/.test(d) ? Number(d) : undefined;

/** Waits `ms`, or less when the signal aborts; true when it waited the whole time. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (waited: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(waited);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener("abort", onAbort);
  });
}
