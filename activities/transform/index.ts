/**
 * The `transform` node: a pure JSONata expression over the run context (no clock, no randomness), evaluated in
 * the expression pool and stopped at the node's `timeout_ms` (or the pool's default bound) and memory limit.
 */
import { TemplateError } from "../../core/template.ts";
import { nonRetryable } from "../errors.ts";
import { ExpressionLimitError, type ExpressionPool } from "../expressions/pool.ts";

export async function transform(
  expressions: ExpressionPool,
  config: Record<string, unknown>,
  context: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<unknown> {
  const timeoutMs = typeof config.timeout_ms === "number" ? config.timeout_ms : undefined;
  try {
    const value = await expressions.evaluate(config.expression as string, context, { pure: true, timeoutMs, signal });
    return value === undefined ? null : value;
  } catch (err) {
    // The same expression on the same input would overrun again: neither failure is retried.
    if (err instanceof ExpressionLimitError) throw nonRetryable("ExpressionLimit", err.message);
    if (err instanceof TemplateError) throw nonRetryable("ExpressionError", err.message);
    throw err;
  }
}
