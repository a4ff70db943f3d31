/**
 * One attempt of one node: render its config (secrets filled in after the expressions), run its handler under the
 * node's timeout, record the attempt (one row when it is short: attempt-recorder.ts). Returns the output (a reference when large); throws
 * the handler's error, scrubbed of secrets. Lone nodes (execute-node.ts) and group members (node-group.ts) both
 * run their attempts here.
 */
import { ApplicationFailure } from "@temporalio/common";
import type { ExecuteNodeInput, FailureType, SnapshotNode } from "../core/contract.ts";
import type { NodeExecutionKind } from "../core/node-execution.ts";
import { isNodeType, nodeKinds } from "../core/node-kinds.ts";
import { nodePolicy } from "../core/node-policy.ts";
import { inlineLimit, inlineOrRef } from "../core/output-ref.ts";
import { createRedactor } from "../core/redact.ts";
import { placedSecrets, renderWithSecrets, secretPlacementProblems } from "../core/secret-placement.ts";
import { withSpan } from "../core/tracing.ts";
import type { Sql } from "../db/client.ts";
import { type AttemptEnd, createNodeExecutionLog } from "../db/node-executions.ts";
import { type AttemptLog, attemptRecorder, SIDE_EFFECT_FREE } from "./attempt-recorder.ts";
import { resolveContext } from "../db/output-refs.ts";
import { withDeadline } from "./deadline.ts";
import { describeError, nonRetryable, retryable } from "./errors.ts";
import { nodeDuration } from "./metrics.ts";
import type { Handler, Render } from "./node-handlers.ts";
import { refused } from "./runs/run-guard.ts";
import type { ResolveSecrets } from "./secrets.ts";

/** How long after `timeout_ms` the attempt's deadline backs up a handler that enforces the timeout itself. */
const SELF_TIMEOUT_BACKUP_MS = 500;

export interface AttemptDeps {
  sql: Sql;
  handlers: Record<string, Handler>;
  render: Render;
  resolveSecrets: ResolveSecrets;
  /** Where attempts are recorded; by default node_executions (map items and tests record elsewhere). */
  log?: AttemptLog;
  /** Every attempt writes its running row when it begins (group members: attempt-recorder.ts says why). */
  runningRowFirst?: boolean;
}

/**
 * `execution`: how the attempt runs, as its row records it (a group member or map item runs in an activity).
 * `fresh`: a local node's first try, made without reading what earlier tries recorded: when its write finds the
 * attempt already recorded (or the run finished), it throws EarlierAttempt instead, before its handler acts if it
 * has effects, and the caller reads what was recorded (local-node.ts).
 */
export type RunAttempt = (
  input: ExecuteNodeInput,
  attempt: number,
  signal: AbortSignal,
  execution?: NodeExecutionKind,
  fresh?: boolean,
) => Promise<unknown>;

/** A fresh attempt found its attempt already recorded by an earlier try, or its run finished: nothing was written. */
export class EarlierAttempt extends Error {
  constructor(runId: string, nodeId: string) {
    super(`node ${nodeId} of run ${runId}: attempt 1 was recorded before, or the run has finished`);
    this.name = "EarlierAttempt";
  }
}

/** A config ready to run, or why it cannot: what the attempt records either way. */
interface Prepared {
  prepared: Record<string, unknown> | null;
  error: unknown;
  /** Replaces every spelling of the node's secret values. */
  scrub: <T>(value: T) => T;
  hasSecrets: boolean;
}

export function createAttemptRunner(
  { sql, handlers, render, resolveSecrets, log = createNodeExecutionLog(sql), runningRowFirst }: AttemptDeps,
): RunAttempt {
  // Secret values are known only here; every spelling of them is scrubbed from everything recorded or returned.
  async function prepare(runId: string, node: SnapshotNode, context: Record<string, unknown>): Promise<Prepared> {
    const handler = handlers[node.type];
    const result: Prepared = { prepared: null, error: null, scrub: (value) => value, hasSecrets: false };
    if (!handler) {
      result.error = nonRetryable("UnknownNodeType", `this worker has no handler for node type "${node.type}"`);
      return result;
    }
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
      result.hasSecrets = names.length > 0;
      result.scrub = createRedactor(Object.values(secrets));
      // Expressions render over a context without secrets; placements are filled in afterwards.
      result.prepared = await renderWithSecrets(
        node.config,
        secrets,
        (config) => handler.prepare(config, context, render),
      );
    } catch (err) {
      result.error = err;
    }
    return result;
  }

  async function runAttemptUntraced(
    { runId, node, context: given }: ExecuteNodeInput,
    attempt: number,
    signal: AbortSignal,
    execution: NodeExecutionKind,
    fresh: boolean,
  ): Promise<unknown> {
    const context = await resolveContext(sql, given);
    const started = performance.now();
    const handler = handlers[node.type];
    const { prepared, error: prepareError, scrub, hasSecrets } = await prepare(runId, node, context);
    const begun = {
      run_id: runId,
      node_id: node.id,
      node_name: node.name,
      type: node.type,
      attempt,
      execution,
      ...(fresh ? { fresh } : {}),
    };
    const notWritten = () => fresh ? new EarlierAttempt(runId, node.id) : refused(`run ${runId} has finished`);
    const input = prepared ? scrub(prepared) : null;
    // A local attempt with effects writes its running row first: a worker lost mid-attempt restarts the workflow
    // task, whose attempt count starts again, so that row is the only trace of the lost attempt (local-node.ts).
    const rowFirst = runningRowFirst || (execution === "local" && !SIDE_EFFECT_FREE.has(node.type));
    const record = attemptRecorder(log, begun, input, started, rowFirst);
    // A run that has finished runs nothing more: checked before the handler acts, unless it acts on nothing.
    if (!prepareError && !(await record.admit(SIDE_EFFECT_FREE.has(node.type)))) throw notWritten();
    const finish = async (status: AttemptEnd["status"], output: unknown, error: unknown) => {
      const seconds = (performance.now() - started) / 1000;
      nodeDuration.observe({ type: node.type, status }, seconds);
      if (!(await record.end(status, output, error || null, Math.round(seconds * 1000)))) throw notWritten();
    };
    let ended = false;
    try {
      if (prepareError) throw prepareError;
      const meta = { runId, nodeId: node.id, nodeName: node.name, attempt };
      const run = (deadline: AbortSignal) => handler.run(prepared!, context, deadline, meta);
      const timeoutMs = nodePolicy(node.config).timeoutMs + (handler.enforcesTimeout ? SELF_TIMEOUT_BACKUP_MS : 0);
      const output = scrub((await withDeadline(timeoutMs, signal, run)) ?? null);
      ended = true;
      await finish("succeeded", output, null);
      return inlineOrRef(runId, node.id, output, inlineLimit(execution));
    } catch (err) {
      if (ended) throw err;
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

  /** One attempt in a span of its own, named by the node, under the activity's span (a group runs several). */
  return (input, attempt, signal, execution = "activity", fresh = false) =>
    withSpan(`node ${input.node.name}`, {
      "weft.run_id": input.runId,
      "weft.node_id": input.node.id,
      "weft.node_name": input.node.name,
      "weft.node_type": input.node.type,
      "weft.attempt": attempt,
    }, () => runAttemptUntraced(input, attempt, signal, execution, fresh));
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

/** A Temporal duration as milliseconds, when it is a plain number of them. */
export const msOf = (d: unknown): number | undefined =>
  typeof d === "number" ? d : typeof d === "string" && /^\d+$/.test(d) ? Number(d) : undefined;
