/**
 * Edge conditions and approval messages, evaluated for the workflow (as local activities) in the expression
 * pool: a condition that overruns its bound fails its run, never the workflow task or the worker.
 */
import type { ConditionOutcome, EvaluateConditionsInput } from "../../core/contract.ts";
import { isTruthy } from "../../core/dag-scheduler.ts";
import { TemplateError } from "../../core/template.ts";
import type { Sql } from "../../db/client.ts";
import { resolveContext } from "../../db/output-refs.ts";
import { nonRetryable } from "../errors.ts";
import { createRunGuard, type RunGuard } from "./run-guard.ts";
import type { ExpressionPool } from "../expressions/pool.ts";

/** The run a workflow-built context names (`run.id`). */
const runOf = (context: Record<string, unknown> | undefined) => (context?.run as { id?: unknown } | undefined)?.id;

export function createConditionEvaluation(
  sql: Sql,
  expressions: ExpressionPool,
  guard: RunGuard = createRunGuard(sql),
) {
  async function renderInput(
    { value, context }: { value: Record<string, unknown>; context: Record<string, unknown> },
  ): Promise<Record<string, unknown>> {
    // Rendered only for a live run of Weft's, over that run's own input and outputs (run-guard.ts).
    await guard.forReads(runOf(context), context.input, context.nodes as never);
    try {
      return (await expressions.render(value, await resolveContext(sql, context))) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof TemplateError) throw nonRetryable("TemplateError", err.message);
      throw err;
    }
  }

  return {
    /** One condition over outputs passed by reference (workflow histories from before the batch below). */
    async evaluateCondition(
      { condition, context }: { condition: string; context: Record<string, unknown> },
    ): Promise<boolean> {
      // The context is the run's (run-guard.ts): a condition cannot read another run's outputs by reference.
      await guard.forReads(runOf(context), context.input, context.nodes as never, [condition]);
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
      // The conditions, input and references must be the run's own (run-guard.ts).
      await guard.forReads(runId, input, nodes, conditions.map((c) => c.condition));
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
    renderApprovalInput: renderInput,
    /** A control-flow node's input (a sub-workflow's input, a delay's `until`), rendered for the run. */
    renderNodeInput: renderInput,
  };
}
