/** The control-flow node kinds the run executes itself (core/control-nodes.ts), by type. */
import type { SnapshotNode } from "../../core/contract.ts";
import type { NodeContext } from "../run-state.ts";
import type { ControlDeps, ControlRunner } from "./control.ts";
import { delayRunner } from "./delay.ts";
import { mapRunner } from "./map.ts";
import { subWorkflowRunner } from "./sub-workflow.ts";
import { type EventQueue, waitForEventRunner } from "./wait-for-event.ts";

export { startErrorRun } from "./error-run.ts";
export { type EventQueue, eventSignal, installEventQueue } from "./wait-for-event.ts";

/** Answers how to run a node of a control type, or undefined for the types that run as activities. */
export function controlRunners(deps: ControlDeps, events: EventQueue) {
  const runners: Record<string, ControlRunner> = {
    delay: delayRunner(deps),
    wait_for_event: waitForEventRunner(deps, events),
    sub_workflow: subWorkflowRunner(deps),
    map: mapRunner(deps, events),
  };
  return (node: SnapshotNode): ((context: NodeContext) => Promise<unknown>) | undefined => {
    const runner = Object.hasOwn(runners, node.type) ? runners[node.type] : undefined;
    return runner && ((context) => runner(node, context));
  };
}
