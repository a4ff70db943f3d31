/**
 * Whether the run is `waiting`: while any approval, delay or wait_for_event waits, the run's row and its
 * WeftStatus say so; when the last one ends it is `running` again. An approval stops waiting when its decision
 * arrives, before its node has recorded it: each waiter says whether it still waits.
 */
import type { RunStatus } from "../core/contract.ts";
import { bookkeeping, record } from "./activity-options.ts";

export class RunWaits {
  private readonly waiters = new Map<string, () => boolean>();

  constructor(
    private readonly runId: string,
    private readonly setStatus: (status: RunStatus) => void,
  ) {}

  /** `key` waits (a node name) for as long as `stillWaiting` holds, and at most until `leave(key)`. */
  async enter(key: string, stillWaiting: () => boolean = () => true): Promise<void> {
    this.waiters.set(key, stillWaiting);
    await record(() => bookkeeping.setRunStatus({ runId: this.runId, status: "waiting" }));
    this.setStatus("waiting");
  }

  async leave(key: string): Promise<void> {
    this.waiters.delete(key);
    if ([...this.waiters.values()].some((waits) => waits())) return;
    await record(() => bookkeeping.setRunStatus({ runId: this.runId, status: "running" }));
    this.setStatus("running");
  }
}
