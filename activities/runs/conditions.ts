/**
 * Edge conditions and approval messages, evaluated for the workflow (as local activities) in the expression
 * pool: a condition that overruns its bound fails its run, never the workflow task or the worker.
 */
import { isTruthy } from "../../core/dag-scheduler.ts";
import { TemplateError } from "../../core/template.ts";
import type { Sql } from "../../db/client.ts";
import { resolveContext } from "../../db/output-refs.ts";
import { nonRetryable } from "../errors.ts";
import type { ExpressionPool } from "../expressions/pool.ts";

/** All the conditional edges out of one finished node: the outputs they read travel once. */
export interface EvaluateConditionsInput {
  runId: string;
  input: unknown;
  nodes: Record<string, { output: unknown }>;
  conditions: { condition: string; reads: string[] }[];
}

/** Each condition's outcome, in order: taken or not, or why it could not be decided. */
export type ConditionOutcome = { taken: boolean } | { error: string };

export function createConditionEvaluation(sql: Sql, expressions: ExpressionPool) {
  return {
    /** One condition over outputs passed by reference (workflow histories from before the batch below). */
    async evaluateCondition(
      { condition, context }: { condition: string; context: Record<string, unknown> },
    ): Promise<boolean> {
      try {
        return isTruthy(await expressions.evaluate(condition, await resolveContext(sql, context)));
      } catch (err) {
        if (err instanceof TemplateError) throw nonRetryable("ConditionError", err.message);
        throw err;
      }
    },

    /** Every condition on a node's outgoing edges at once; one that fails is reported, not thrown. */
    async evaluateConditions(
      { runId, input, nodes, conditions }: EvaluateConditionsInput,
    ): Promise<ConditionOutcome[]> {
      // References are read from PostgreSQL once; a read that fails is retried as the activity.
      const resolved = (await resolveContext(sql, { nodes })).nodes as Record<string, { output: unknown }>;
      return await Promise.all(conditions.map(async ({ condition, reads }) => {
        const context = {
          input,
          nodes: Object.fromEntries(reads.filter((n) => n in resolved).map((n) => [n, resolved[n]])),
          run: { id: runId },
        };
        try {
          return { taken: isTruthy(await expressions.evaluate(condition, context)) };
        } catch (err) {
          if (err instanceof TemplateError) return { error: err.message };
          throw err;
        }
      }));
    },

    /** An approval node's `{{ }}` message, rendered for the reviewer. */
    async renderApprovalInput(
      { value, context }: { value: Record<string, unknown>; context: Record<string, unknown> },
    ): Promise<Record<string, unknown>> {
      try {
        return (await expressions.render(value, await resolveContext(sql, context))) as Record<string, unknown>;
      } catch (err) {
        if (err instanceof TemplateError) throw nonRetryable("TemplateError", err.message);
        throw err;
      }
    },
  };
}
