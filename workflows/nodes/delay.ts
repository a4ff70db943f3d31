/** The `delay` node: a durable timer (Temporal's), so a days-long wait holds no worker slot and survives restarts. */
import { sleep } from "@temporalio/workflow";
import type { DelayConfig } from "../../core/control-nodes.ts";
import type { SnapshotNode } from "../../core/contract.ts";
import type { NodeContext } from "../run-state.ts";
import { asExecution, type ControlDeps, nodeFailure, renderInput } from "./control.ts";

export interface DelayOutput {
  waited_ms: number;
  until: string;
}

export function delayRunner({ args, waits }: ControlDeps) {
  return async (node: SnapshotNode, context: NodeContext): Promise<DelayOutput> => {
    const config = node.config as DelayConfig;
    const rendered = config.until === undefined ? {} : await renderInput({ until: config.until }, context);
    const input = config.duration_ms === undefined ? rendered : { duration_ms: config.duration_ms };
    return await asExecution(args.runId, node, { status: "waiting", input }, async () => {
      // Date.now() is the workflow task's time: deterministic on replay.
      const untilMs = config.duration_ms === undefined
        ? Date.parse(String(rendered.until))
        : Date.now() + config.duration_ms;
      if (Number.isNaN(untilMs)) {
        throw nodeFailure("InvalidConfig", `until rendered to "${rendered.until}", which is not an ISO 8601 time`);
      }
      const ms = Math.max(0, untilMs - Date.now());
      await waits.enter(node.name);
      try {
        await sleep(ms);
      } finally {
        await waits.leave(node.name);
      }
      return { waited_ms: ms, until: new Date(untilMs).toISOString() };
    });
  };
}
