/** Edge conditions over outputs passed by reference: evaluated where PostgreSQL can be read (a local activity). */
import { isTruthy } from "../../core/dag-scheduler.ts";
import { evaluateExpression, TemplateError } from "../../core/template.ts";
import type { Sql } from "../../db/client.ts";
import { resolveContext } from "../../db/output-refs.ts";
import { nonRetryable } from "../errors.ts";
import { createRunGuard, refused, type RunGuard } from "./run-guard.ts";

export function createConditionEvaluation(sql: Sql, guard: RunGuard = createRunGuard(sql)) {
  return {
    async evaluateCondition(
      { condition, context }: { condition: string; context: Record<string, unknown> },
    ): Promise<boolean> {
      // The context is the run's (run-guard.ts): a condition cannot read another run's outputs by reference.
      const run = await guard.forRun((context?.run as { id?: unknown } | undefined)?.id);
      if (!run.conditions.has(condition)) throw refused("the condition is not one of the run's edges");
      guard.checkInput(run, context.input);
      await guard.checkLive(run);
      await guard.checkRefs(run, context.nodes as never);
      try {
        return isTruthy(await evaluateExpression(condition, await resolveContext(sql, context)));
      } catch (err) {
        if (err instanceof TemplateError) throw nonRetryable("ConditionError", err.message);
        throw err;
      }
    },
  };
}
