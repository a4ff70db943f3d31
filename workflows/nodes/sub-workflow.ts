/**
 * The `sub_workflow` node: another workflow of the same workspace runs as a child run (listed and inspectable like
 * any run, linked to this one by parent_run_id and parent_node); its output is the node's output, its failure
 * the node's. Cancelling this run cancels the child. Nesting is bounded (RunDagInput.maxDepth).
 */
import { isCancellation, uuid4 } from "@temporalio/workflow";
import type { SubWorkflowConfig } from "../../core/control-nodes.ts";
import { DEFAULT_MAX_SUB_WORKFLOW_DEPTH } from "../../core/node-kinds.ts";
import type { SnapshotNode } from "../../core/contract.ts";
import { bookkeeping, record } from "../activity-options.ts";
import type { NodeContext } from "../run-state.ts";
import { startChildRun } from "./child-runs.ts";
import { asExecution, type ControlDeps, failureText, nodeFailure, renderInput } from "./control.ts";

export function subWorkflowRunner({ args }: ControlDeps) {
  return async (node: SnapshotNode, context: NodeContext): Promise<unknown> => {
    const config = node.config as SubWorkflowConfig;
    const input = await renderInput(config.input ?? {}, context);
    const recorded = { workflow_id: config.workflow_id, version: config.version, input };
    return await asExecution(args.runId, node, { status: "running", input: recorded }, async () => {
      const depth = (args.depth ?? 0) + 1;
      const maxDepth = args.maxDepth ?? DEFAULT_MAX_SUB_WORKFLOW_DEPTH;
      if (depth > maxDepth) {
        throw nodeFailure("NestingTooDeep", `sub-workflows nest deeper than ${maxDepth} levels`);
      }
      const created = await record(() =>
        bookkeeping.createChildRun({
          parentRunId: args.runId,
          parentNode: node.name,
          runId: uuid4(),
          workflowId: config.workflow_id,
          version: config.version ?? "latest",
          input,
          trigger: "sub_workflow",
        })
      );
      const child = await startChildRun(args, created, { depth });
      try {
        return (await child.result()).output;
      } catch (err) {
        if (isCancellation(err)) throw err;
        throw nodeFailure("ChildRunFailed", `run ${created.runId} failed: ${failureText(err)}`);
      }
    });
  };
}
