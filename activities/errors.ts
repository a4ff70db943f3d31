/** Activities decide retryability: bad input is non-retryable, transient faults are retried by Temporal. */
import { ApplicationFailure } from "@temporalio/common";
import type { FailureType } from "../core/contract.ts";

export function nonRetryable(type: FailureType, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: true,
    details: details === undefined ? [] : [details],
  });
}

export function retryable(
  type: FailureType,
  message: string,
  details?: unknown,
  nextRetryDelayMs?: number,
): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: false,
    details: details === undefined ? [] : [details],
    // Temporal does not retry at all when told a zero delay; zero means "use the policy's backoff".
    nextRetryDelay: nextRetryDelayMs && nextRetryDelayMs > 0 ? nextRetryDelayMs : undefined,
  });
}

/** The error as a node execution records it. */
export function describeError(err: unknown): { message: string; type: string; retryable: boolean } {
  if (err instanceof ApplicationFailure) {
    return { message: err.message, type: err.type ?? "ApplicationFailure", retryable: !err.nonRetryable };
  }
  const e = err as { message?: string; name?: string };
  return { message: e?.message ?? String(err), type: e?.name ?? "Error", retryable: true };
}
