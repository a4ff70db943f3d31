/**
 * An attempt's `timeout_ms`, enforced for every node type where the attempt runs. A plain timer and an
 * AbortController, cleared when the attempt ends: `AbortSignal.timeout` combined through `AbortSignal.any` can
 * lose its timer to garbage collection on Node (nodejs/node#57736), which let a third of timed-out requests run
 * on to Temporal's outer deadline. A handler that ignores its signal still ends at the deadline (the race), and
 * one that honours it gets a moment to finish aborting first, so a timed-out request is closed before the
 * attempt reports its end and Temporal starts the next one.
 */
import { ApplicationFailure } from "@temporalio/common";
import { retryable } from "./errors.ts";

/** How long a timed-out handler gets to finish aborting (close its request) before the attempt ends anyway. */
const ABORT_GRACE_MS = 1000;

export const isTimeout = (err: unknown) => err instanceof ApplicationFailure && err.type === "Timeout";

/** A signal that aborts when `outer` does or after `ms`; `clear` stops the timer and the listener. */
export function deadlineSignal(outer: AbortSignal, ms: number, reason: () => unknown) {
  const controller = new AbortController();
  const onAbort = () => controller.abort(outer.reason);
  const timer = setTimeout(() => controller.abort(reason()), ms);
  if (outer.aborted) onAbort();
  else outer.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      outer.removeEventListener("abort", onAbort);
    },
  };
}

/**
 * Runs `work` with a signal that aborts at `timeoutMs` (throwing a retryable `Timeout`) or when `outer` aborts
 * (throwing its reason, or whatever `work` threw for it).
 */
export async function withDeadline<T>(
  timeoutMs: number,
  outer: AbortSignal,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timeout = () => retryable("Timeout", `the node timed out after ${timeoutMs} ms (timeout_ms)`);
  const deadline = deadlineSignal(outer, timeoutMs, timeout);
  const running = Promise.resolve().then(() => work(deadline.signal));
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(deadline.signal.reason);
    deadline.signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {}); // settled by the race, or by nobody when the work ends first
  try {
    return await Promise.race([running, aborted]);
  } catch (err) {
    if (!deadline.signal.aborted) throw err;
    // Let the handler close what it had open (its request), within a bound.
    let grace: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([running.catch(() => {}), new Promise((r) => (grace = setTimeout(r, ABORT_GRACE_MS)))]);
    clearTimeout(grace);
    throw deadline.signal.reason;
  } finally {
    deadline.signal.removeEventListener("abort", onAbort);
    deadline.clear();
  }
}
