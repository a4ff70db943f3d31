/**
 * A finished node's outgoing edges: taken when unconditional or when the condition holds. Conditions are
 * evaluated by one local activity per node under the worker's bounds; histories from before
 * BOUNDED_EXPRESSIONS_PATCH evaluated them on the workflow thread and replay that way. A condition that fails
 * fails the run and is not taken.
 */
import type { ConditionOutcome, SnapshotEdge } from "../core/contract.ts";
import { type DagScheduler, isTruthy, type SchedulerEdge } from "../core/dag-scheduler.ts";
import { contextHasRefs } from "../core/output-ref.ts";
import { referencedNodes } from "../core/template-refs.ts";
import { evaluateExpression } from "./jsonata.ts";
import { bookkeeping, expressionActivities, failureMessage, record } from "./activity-options.ts";
import type { RunState } from "./run-state.ts";

export interface EdgeDeps {
  state: RunState;
  scheduler: DagScheduler;
  /** Whether this history evaluates conditions in a local activity (BOUNDED_EXPRESSIONS_PATCH). */
  expressionsBounded: () => boolean;
}

/** Answers the function that resolves a node's outgoing edges once it has succeeded. */
export function edgeResolver({ state, scheduler, expressionsBounded }: EdgeDeps) {
  const { edgeById, byId } = state.graph;

  /** Conditional edges out of one node, decided by one local activity. */
  const resolveConditions = async (edges: SnapshotEdge[]) => {
    const nodes: Record<string, { output: unknown }> = {};
    const conditions = edges.map((edge) => {
      const condition = edge.condition!;
      const { nodes: reads } = state.contextFor(byId.get(edge.target_node_id)!, referencedNodes(condition, true));
      Object.assign(nodes, reads);
      return { condition, reads: Object.keys(reads) };
    });
    let outcomes: ConditionOutcome[];
    try {
      outcomes = await record(() =>
        expressionActivities.evaluateConditions({ runId: state.runId, input: state.input, nodes, conditions })
      );
    } catch (err) {
      outcomes = edges.map(() => ({ error: failureMessage(err) }));
    }
    for (const [i, edge] of edges.entries()) {
      const outcome = outcomes[i];
      if ("error" in outcome) state.conditionFailed(edge.target_node_id, outcome.error);
      scheduler.resolveEdge(edge.id, "taken" in outcome && outcome.taken);
    }
  };

  /** Before the patch: each condition on the workflow thread, or in a local activity when it reads a reference. */
  const resolveUnbounded = async (edges: SchedulerEdge[]) => {
    for (const edge of edges) {
      const condition = edgeById.get(edge.id)!.condition;
      if (!condition) {
        scheduler.resolveEdge(edge.id, true);
        continue;
      }
      const target = byId.get(edge.target_node_id)!;
      try {
        const context = state.contextFor(target, referencedNodes(condition, true));
        // Outputs passed by reference are only readable from PostgreSQL: evaluate those in a local activity.
        const taken = contextHasRefs(context)
          ? await record(() => bookkeeping.evaluateCondition({ condition, context }))
          : isTruthy(await evaluateExpression(condition, context));
        scheduler.resolveEdge(edge.id, taken);
      } catch (err) {
        state.conditionFailed(target.id, (err as Error).message);
        scheduler.resolveEdge(edge.id, false);
      }
    }
  };

  return async function resolveOutgoing(id: string) {
    const edges = scheduler.outgoingEdges(id);
    const conditional = edges.filter((e) => edgeById.get(e.id)!.condition);
    if (conditional.length && expressionsBounded()) {
      for (const edge of edges) if (!edgeById.get(edge.id)!.condition) scheduler.resolveEdge(edge.id, true);
      return await resolveConditions(conditional.map((e) => edgeById.get(e.id)!));
    }
    await resolveUnbounded(edges);
  };
}
