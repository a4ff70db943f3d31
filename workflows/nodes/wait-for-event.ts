/**
 * The `wait_for_event` node and the run's event queue: events sent to the run (the `event` signal) queue up by
 * name in arrival order, and each wait_for_event of that name takes the next one, or times out.
 */
import { condition, defineSignal, setHandler } from "@temporalio/workflow";
import type { WaitForEventConfig } from "../../core/control-nodes.ts";
import { type RunEvent, runEventSignal, type SignalArgs, type SnapshotNode } from "../../core/contract.ts";
import { asExecution, type ControlDeps, nodeFailure } from "./control.ts";

export const eventSignal = defineSignal<SignalArgs<typeof runEventSignal>, typeof runEventSignal.name>(
  runEventSignal.name,
);

export interface EventOutput {
  data: unknown;
  received_at: string | null;
  timed_out: boolean;
}

/** Registers the signal handler (before the run's first await, so no event is missed). */
export function installEventQueue(carried: RunEvent[] = []) {
  const queue: RunEvent[] = [...carried];
  setHandler(eventSignal, (event) => void queue.push(event));

  /** The next event of that name, or null once `timeoutMs` has passed. */
  async function take(name: string, timeoutMs: number | undefined): Promise<RunEvent | null> {
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    for (;;) {
      const has = () => queue.some((e) => e.event === name);
      if (deadline === undefined) await condition(has);
      else if (!(await condition(has, Math.max(0, deadline - Date.now())))) return null;
      // Two waits for one name may wake on one event: the first takes it, the other waits on.
      const i = queue.findIndex((e) => e.event === name);
      if (i >= 0) return queue.splice(i, 1)[0];
    }
  }

  return { take, pending: (): RunEvent[] => [...queue] };
}

export type EventQueue = ReturnType<typeof installEventQueue>;

export function waitForEventRunner({ args, waits }: ControlDeps, events: EventQueue) {
  return async (node: SnapshotNode): Promise<EventOutput> => {
    const config = node.config as WaitForEventConfig;
    const input = { event: config.event, timeout_ms: config.timeout_ms ?? null };
    return await asExecution(args.runId, node, { status: "waiting", input }, async () => {
      await waits.enter(node.name);
      let event: RunEvent | null;
      try {
        event = await events.take(config.event, config.timeout_ms);
      } finally {
        await waits.leave(node.name);
      }
      if (event) return { data: event.data, received_at: event.received_at, timed_out: false };
      if (config.on_timeout !== "continue") {
        throw nodeFailure("EventTimeout", `no "${config.event}" event within ${config.timeout_ms} ms`);
      }
      return { data: null, received_at: null, timed_out: true };
    });
  };
}
