/**
 * A node's retry policy and timeout from its config (`retry`, `timeout_ms`), with Weft's defaults. Read by the
 * workflow (the activity options of a node) and by a node group's activity (which retries its members itself),
 * so both follow one policy.
 */
export interface NodePolicy {
  maxAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maxIntervalMs: number;
  nonRetryableErrorTypes: string[];
  /** How long one attempt may take. */
  timeoutMs: number;
}

export const DEFAULT_NODE_TIMEOUT_MS = 60_000;

/** Whether an attempt that failed with `error` was the node's last: Temporal would not retry it. */
export function failsForGood(policy: NodePolicy, error: { type: string; retryable: boolean }, attempt: number) {
  return !error.retryable || policy.nonRetryableErrorTypes.includes(error.type) || attempt >= policy.maxAttempts;
}
/** An attempt gets its node's timeout plus this much room to record its result. */
export const RECORD_SLACK_MS = 10_000;

export function nodePolicy(config: Record<string, unknown>): NodePolicy {
  const retry = (config.retry ?? {}) as {
    max_attempts?: number;
    initial_interval_ms?: number;
    backoff_coefficient?: number;
    max_interval_ms?: number;
    non_retryable_error_codes?: string[];
  };
  return {
    maxAttempts: retry.max_attempts ?? 3,
    initialIntervalMs: retry.initial_interval_ms ?? 1000,
    backoffCoefficient: retry.backoff_coefficient ?? 2,
    maxIntervalMs: retry.max_interval_ms ?? 30_000,
    nonRetryableErrorTypes: retry.non_retryable_error_codes ?? [],
    timeoutMs: typeof config.timeout_ms === "number" ? config.timeout_ms : DEFAULT_NODE_TIMEOUT_MS,
  };
}

/** The wait before attempt `attempt + 1`, as Temporal's retry policy computes it. */
export function backoffMs(p: NodePolicy, attempt: number): number {
  return Math.min(p.initialIntervalMs * p.backoffCoefficient ** (attempt - 1), p.maxIntervalMs);
}

/** The longest every attempt with its backoff can take: a bound for an activity that retries in-process. */
export function worstCaseMs(p: NodePolicy): number {
  let total = 0;
  for (let a = 1; a <= p.maxAttempts; a++) total += p.timeoutMs + RECORD_SLACK_MS + (a > 1 ? backoffMs(p, a - 1) : 0);
  return total;
}
