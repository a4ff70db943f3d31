/**
 * What one workflow task may carry back from local activities. Every local node that finishes within a workflow
 * task returns its result with that task's completion (a marker each), so a long chain or a wide fan-out of short
 * nodes could otherwise build one completion past what Temporal accepts (4 MB per gRPC message). Each local node
 * reserves its worst case (LOCAL_INLINE_OUTPUT_LIMIT_BYTES plus the marker) when it starts and settles to what it
 * returned; a node that does not fit runs as a regular activity, which ends the task and so renews the budget.
 * The task is told by workflowInfo().historyLength, which changes only when a new workflow task begins and
 * replays identically, so the decision is deterministic.
 */
import { workflowInfo } from "@temporalio/workflow";
import { jsonBytes, LOCAL_INLINE_OUTPUT_LIMIT_BYTES } from "../core/output-ref.ts";

/** At most this much local-activity results per workflow task (half of the 4 MB message limit). */
export const LOCAL_TASK_BUDGET_BYTES = 2 * 1024 * 1024;
/** A marker's own share: ids, activity type, headers, the summary. */
export const LOCAL_MARKER_BYTES = 1024;
const RESERVED = LOCAL_INLINE_OUTPUT_LIMIT_BYTES + LOCAL_MARKER_BYTES;

export class LocalTaskBudget {
  private task = -1;
  private used = 0;

  constructor(private readonly limit = LOCAL_TASK_BUDGET_BYTES) {}

  /** Reserves room for one more local node in this workflow task; answers a settle function, or null if full. */
  reserve(): ((output: unknown) => void) | null {
    this.roll();
    if (this.used + RESERVED > this.limit) return null;
    this.used += RESERVED;
    const task = this.task;
    return (output) => {
      this.roll();
      const actual = LOCAL_MARKER_BYTES + jsonBytes(output);
      // Settled in the task that reserved: give back what the output did not use; in a later one, it lands there.
      this.used += this.task === task ? actual - RESERVED : actual;
    };
  }

  private roll() {
    const length = workflowInfo().historyLength;
    if (length !== this.task) {
      this.task = length;
      this.used = 0;
    }
  }
}
