/** Edge conditions over outputs passed by reference: evaluated where PostgreSQL can be read (a local activity). */
import { isTruthy } from "../../core/dag-scheduler.ts";
import { evaluateExpression, TemplateError } from "../../core/template.ts";
import type { Sql } from "../../db/client.ts";
import { resolveContext } from "../../db/output-refs.ts";
import { nonRetryable } from "../errors.ts";

export function createConditionEvaluation(sql: Sql) {
  return {
    async evaluateCondition(
      { condition, context }: { condition: string; context: Record<string, unknown> },
    ): Promise<boolean> {
      try {
        return isTruthy(await evaluateExpression(condition, await resolveContext(sql, context)));
      } catch (err) {
        if (err instanceof TemplateError) throw nonRetryable("ConditionError", err.message);
        throw err;
      }
    },
  };
}
