/** Runs one node of a run: render its config, record the attempt, dispatch by type, record the result. */
import { Context } from "@temporalio/activity";
import type { SnapshotNode } from "../core/snapshot.ts";
import { renderTemplate, TemplateError } from "../core/template.ts";
import type { Sql } from "../db/client.ts";
import { redact } from "../core/secrets-crypto.ts";
import { describeError, nonRetryable, retryable } from "./errors.ts";
import { createSecretResolver, referencedSecrets } from "./secrets.ts";
import type { EgressPolicy } from "./http/egress-policy.ts";
import { createDbWrite } from "./db/index.ts";
import { httpRequest } from "./http/index.ts";
import { resolveContext } from "../db/output-refs.ts";
import { type AttemptEnd, createNodeExecutionLog } from "../db/node-executions.ts";
import { INLINE_OUTPUT_LIMIT_BYTES, jsonBytes, type OutputRef } from "../core/output-ref.ts";
import { transform } from "./transform/index.ts";

export interface ExecuteNodeInput {
  runId: string;
  node: SnapshotNode;
  /** `input` (the run input), `nodes.<name>.output` for the upstream nodes it reads, `run.id`. */
  context: Record<string, unknown>;
}

export interface Handler {
  /** What the node execution records as its input: the config with templates rendered. */
  prepare(config: Record<string, unknown>, context: Record<string, unknown>): Promise<Record<string, unknown>>;
  run(
    prepared: Record<string, unknown>,
    context: Record<string, unknown>,
    signal: AbortSignal,
    meta: { runId: string; nodeId: string; nodeName: string; attempt: number },
  ): Promise<unknown>;
}

export const render = async (config: Record<string, unknown>, context: Record<string, unknown>) => {
  try {
    return (await renderTemplate(config, context)) as Record<string, unknown>;
  } catch (err) {
    throw err instanceof TemplateError ? nonRetryable("TemplateError", err.message) : err;
  }
};

function createHandlers(egress: EgressPolicy, sandbox: () => Sql): Record<string, Handler> {
  const dbWrite = createDbWrite(sandbox);
  return {
    http_request: { prepare: render, run: (config, _context, signal) => httpRequest(config, signal, egress) },
    transform: { prepare: (config) => Promise.resolve(config), run: (config, context) => transform(config, context) },
    db_write: { prepare: render, run: (config, _context, _signal, meta) => dbWrite(config, meta) },
  };
}

const HEARTBEAT_EVERY_MS = 1000;

const ATTEMPT_LOST = {
  message: "attempt abandoned: the worker stopped or the attempt timed out",
  type: "AttemptLost",
  retryable: true,
};

/** `extra` adds handlers for more node types (the GPU queue's llm_call and faiss_search). */
export function createExecuteNode(
  sql: Sql,
  egress: EgressPolicy,
  sandbox: () => Sql,
  extra: Record<string, Handler> = {},
) {
  const handlers: Record<string, Handler> = { ...createHandlers(egress, sandbox), ...extra };
  const resolveSecrets = createSecretResolver(sql, process.env);
  const log = createNodeExecutionLog(sql);
  return async function executeNode({ runId, node, context: given }: ExecuteNodeInput): Promise<unknown> {
    const ctx = Context.current();
    let context = await resolveContext(sql, given);
    const attempt = ctx.info.attempt;
    const started = performance.now();
    const handler = handlers[node.type];
    let prepared: Record<string, unknown> | null = null;
    let prepareError: unknown = null;
    // Secret values are known only here; they are scrubbed from everything recorded or returned.
    let secretValues: string[] = [];
    const scrub = <T>(value: T): T => redact(value, secretValues);
    if (!handler) {
      prepareError = nonRetryable("UnknownNodeType", `this worker has no handler for node type "${node.type}"`);
    } else {
      try {
        const names = referencedSecrets(node.config);
        if (names.length) {
          const secrets = await resolveSecrets(runId, names);
          secretValues = Object.values(secrets);
          context = { ...context, secrets };
        }
        prepared = await handler.prepare(node.config, context);
      } catch (err) {
        prepareError = err;
      }
    }
    // Earlier attempts still marked running died with their worker or timed out (a first attempt has none,
    // so the common path skips this write).
    if (attempt > 1) {
      await sql`UPDATE node_executions SET status = 'failed', finished_at = now(), error = ${sql.json(ATTEMPT_LOST)}
                WHERE run_id = ${runId} AND node_id = ${node.id} AND status = 'running' AND attempt < ${attempt}`;
    }
    const id = await log.started({
      run_id: runId,
      node_id: node.id,
      node_name: node.name,
      type: node.type,
      attempt,
      input: prepared ? scrub(prepared) : null,
    });
    const finish = (status: AttemptEnd["status"], output: unknown, error: unknown) =>
      log.finished({
        id,
        run_id: runId,
        status,
        output,
        error: error || null,
        duration_ms: Math.round(performance.now() - started),
      });
    // Heartbeats let Temporal notice a dead worker quickly and deliver cancellation to this attempt.
    const heartbeat = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
    try {
      if (prepareError) throw prepareError;
      const meta = { runId, nodeId: node.id, nodeName: node.name, attempt };
      const output = scrub((await handler.run(prepared!, context, ctx.cancellationSignal, meta)) ?? null);
      await finish("succeeded", output, null);
      const bytes = jsonBytes(output);
      if (bytes <= INLINE_OUTPUT_LIMIT_BYTES) return output;
      const ref: OutputRef = { $weft_ref: { run_id: runId, node_id: node.id, bytes } };
      return ref;
    } catch (err) {
      const cancelled = ctx.cancellationSignal.aborted;
      await finish(
        cancelled ? "cancelled" : "failed",
        undefined,
        scrub(describeError(cancelled ? ctx.cancellationSignal.reason ?? err : err)),
      );
      // The failure goes into Temporal's history: it must not carry a secret either.
      const message = (err as Error)?.message ?? "";
      if (secretValues.some((v) => message.includes(v))) {
        const described = describeError(err);
        throw described.retryable
          ? retryable(described.type, scrub(message))
          : nonRetryable(described.type, scrub(message));
      }
      throw err;
    } finally {
      clearInterval(heartbeat);
    }
  };
}
