/** The `transform` node: a pure JSONata expression over the run context (no clock, no randomness). */
import { evaluateExpression, TemplateError } from "../../core/template.ts";
import { nonRetryable } from "../errors.ts";

export async function transform(config: Record<string, unknown>, context: Record<string, unknown>): Promise<unknown> {
  try {
    const value = await evaluateExpression(config.expression as string, context, { pure: true });
    return value === undefined ? null : value;
  } catch (err) {
    if (err instanceof TemplateError) throw nonRetryable("ExpressionError", err.message);
    throw err;
  }
}
