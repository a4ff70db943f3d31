/**
 * Node handlers: what each node type does with its rendered config. The CPU queue's types are here; the GPU
 * queue adds llm_call and faiss_search (activities/gpu.ts).
 */
import { TemplateError } from "../core/template.ts";
import { checkConnection, createDbWrite, type DbTargets } from "./db/index.ts";
import { nonRetryable } from "./errors.ts";
import { ExpressionLimitError, type ExpressionPool } from "./expressions/pool.ts";
import type { EgressPolicy } from "./http/egress-policy.ts";
import { httpRequest } from "./http/index.ts";
import { transform } from "./transform/index.ts";

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

export function createRender(expressions: ExpressionPool): Render {
  return async (config, context) => {
    try {
      return (await expressions.render(config, context)) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof ExpressionLimitError) throw nonRetryable("ExpressionLimit", err.message);
      throw err instanceof TemplateError ? nonRetryable("TemplateError", err.message) : err;
    }
  };
}

export function createHandlers(
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
