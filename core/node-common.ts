/**
 * Keys every node type accepts: per-node timeout and retry policy (core/node-policy.ts reads them), and whether the
 * node may run as a local activity (core/node-execution.ts).
 */
import { z } from "zod";
import { nodeFailureCodeProblem } from "./failure-types.ts";

export const retryPolicySchema = z.object({
  max_attempts: z.number().int().min(1).max(100).optional(),
  initial_interval_ms: z.number().int().min(1).max(3_600_000).optional(),
  backoff_coefficient: z.number().min(1).max(100).optional(),
  max_interval_ms: z.number().int().min(1).max(86_400_000).optional(),
  /** Failure types (core/failure-types.ts) or `HTTP_<status>` that end the node at once: a code nothing throws is refused. */
  non_retryable_error_codes: z.array(
    z.string().superRefine((code, ctx) => {
      const problem = nodeFailureCodeProblem(code);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  ).optional(),
}).strict();

export const commonConfig = {
  timeout_ms: z.number().int().min(1).max(86_400_000).optional(),
  retry: retryPolicySchema.optional(),
  /**
   * true: the node runs as a regular Temporal activity even when it qualifies for a local one (core/node-execution.ts),
   * so each attempt is its own activity task in the history and a crash never re-runs it from the workflow task.
   */
  durable_step: z.boolean({ message: "durable_step must be true or false" }).optional(),
};
