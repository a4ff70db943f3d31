/**
 * Approval nodes: the run records the node as waiting, then waits for a person's decision (the `approve`
 * update, core/contract.ts) or the node's timeout and its default decision. A rejection fails the node unless
 * the node says to go on.
 */
import { ApplicationFailure, condition, defineUpdate, isCancellation, setHandler } from "@temporalio/workflow";
import {
  type ApprovalDecision,
  approveUpdate as approveContract,
  type FailureType,
  type NodeError,
  type SnapshotNode,
  type UpdateArgs,
  type UpdateResult,
} from "../core/contract.ts";
import { renderTemplate } from "./jsonata.ts";
import { bookkeeping, expressionActivities, record } from "./activity-options.ts";
import type { NodeContext } from "./run-state.ts";
import type { RunWaits } from "./waits.ts";

/** The workflow's side of the `approve` update; rejected unless the node named is waiting. */
export const approveUpdate = defineUpdate<
  UpdateResult<typeof approveContract>,
  UpdateArgs<typeof approveContract>,
  typeof approveContract.name
>(approveContract.name);

interface ApprovalConfig {
  message?: string;
  default_decision?: string;
  on_reject?: string;
  timeout_ms?: number;
}

export interface ApprovalOutput {
  approved: boolean;
  data: unknown;
  decided_by: string | null;
  timed_out: boolean;
}

const REJECTED: FailureType = "ApprovalRejected";

export interface ApprovalDeps {
  runId: string;
  /** Whether this history evaluates `{{ }}` messages in a local activity (BOUNDED_EXPRESSIONS_PATCH). */
  expressionsBounded: () => boolean;
  /** The run's waits (approvals, delays, events): the run is `waiting` while any is. */
  waits: RunWaits;
}

/** Registers the update handler; answers a function that waits out one approval node. */
export function installApprovals({ runId, expressionsBounded, waits }: ApprovalDeps) {
  // Approval nodes waiting for a decision, by node name; null until the decision arrives.
  const waiting = new Map<string, ApprovalDecision | null>();
  setHandler(approveUpdate, (decision) => {
    waiting.set(decision.node_name, decision);
    return { accepted: true as const };
  }, {
    validator: (decision) => {
      if (!waiting.has(decision.node_name) || waiting.get(decision.node_name) !== null) {
        throw new Error(`node "${decision.node_name}" is not waiting for approval`);
      }
    },
  });

  const renderMessage = async (config: ApprovalConfig, context: NodeContext) => {
    const message = { message: config.message ?? null };
    return JSON.stringify(message).includes("{{") && expressionsBounded()
      ? await expressionActivities.renderApprovalInput({ value: message, context })
      : (await renderTemplate(message, context)) as Record<string, unknown>;
  };

  const decide = async (node: SnapshotNode, config: ApprovalConfig): Promise<ApprovalOutput> => {
    const decided = typeof config.timeout_ms === "number"
      ? await condition(() => waiting.get(node.name) !== null, config.timeout_ms)
      : (await condition(() => waiting.get(node.name) !== null), true);
    const decision = waiting.get(node.name) ?? null;
    const approved = decided && decision ? decision.approved : config.default_decision === "approve";
    const output = {
      approved,
      data: decision?.data ?? null,
      decided_by: decision?.decided_by ?? null,
      timed_out: !decided,
    };
    const rejected = !approved && config.on_reject !== "continue";
    const error: NodeError | null = rejected
      ? {
        message: decided
          ? `rejected by ${decision?.decided_by ?? "a reviewer"}`
          : "no decision before the timeout; rejected by default",
        type: REJECTED,
        retryable: false,
      }
      : null;
    await record(() =>
      bookkeeping.recordApprovalDecision({
        runId,
        node_id: node.id,
        status: rejected ? "failed" : "succeeded",
        output,
        error,
      })
    );
    if (error) throw ApplicationFailure.nonRetryable(error.message, REJECTED);
    return output;
  };

  return async function awaitApproval(node: SnapshotNode, context: NodeContext): Promise<ApprovalOutput> {
    const config = node.config as ApprovalConfig;
    const input = await renderMessage(config, context);
    waiting.set(node.name, null);
    await record(() => bookkeeping.recordApprovalWaiting({ runId, node_id: node.id, node_name: node.name, input }));
    await waits.enter(node.name, () => waiting.get(node.name) === null);
    try {
      return await decide(node, config);
    } catch (err) {
      if (isCancellation(err)) {
        await record(() =>
          bookkeeping.recordApprovalDecision({ runId, node_id: node.id, status: "cancelled", output: undefined })
        );
      }
      throw err;
    } finally {
      waiting.delete(node.name);
      await waits.leave(node.name);
    }
  };
}
