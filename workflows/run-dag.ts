/**
 * The Temporal workflow that runs one Weft graph: every node whose upstream nodes are resolved runs at once
 * (bounded by max_parallel), each as an activity; edge conditions decide which branches are taken; outputs
 * flow downstream as the template context. Cancelling the workflow cancels the running activities. The parts:
 * run-state.ts (what the run knows), node-runner.ts (starting and settling nodes), edges.ts (conditions),
 * approvals.ts, activity-options.ts.
 */
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  continueAsNew,
  patched,
  upsertSearchAttributes,
  workflowInfo,
} from "@temporalio/workflow";
import type { CarriedState, FailureType, NodeOutcome, RunDagInput, RunDagResult, RunStatus } from "../core/contract.ts";
import { DagScheduler } from "../core/dag-scheduler.ts";
import { WEFT_STATUS } from "../core/search-attributes.ts";
import { bookkeeping, BOUNDED_EXPRESSIONS_PATCH, LEAN_BOOKKEEPING_PATCH, record } from "./activity-options.ts";
import { installApprovals } from "./approvals.ts";
import { edgeResolver } from "./edges.ts";
import { NodeRunner } from "./node-runner.ts";
import { controlRunners, installEventQueue, startErrorRun } from "./nodes/index.ts";
import { RunWaits } from "./waits.ts";
import { indexGraph, RunState } from "./run-state.ts";

export { approveUpdate } from "./approvals.ts";

const DEFAULT_MAX_HISTORY_EVENTS = 10_000;
const NO_CARRY: CarriedState = { succeeded: {}, failed: [], failure: null };
const NODE_FAILED: FailureType = "NodeFailed";

export async function runDag(args: RunDagInput): Promise<RunDagResult> {
  const { runId, input, snapshot, reuse = {}, searchAttributes = false } = args;
  const carried = args.carried ?? NO_CARRY;
  const maxHistoryEvents = args.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS;
  const setStatus = (status: RunStatus) => {
    if (searchAttributes) upsertSearchAttributes([{ key: WEFT_STATUS, value: status }]);
  };
  // Before the first await: events sent before the run started are delivered to this handler.
  const events = installEventQueue(carried.events);
  // Newer runs make no call just to mark the run started: their first node_executions row does (migration 041).
  if (!(args.leanStart || patched(LEAN_BOOKKEEPING_PATCH))) await record(() => bookkeeping.markRunStarted(runId));
  const state = new RunState(indexGraph(snapshot), runId, input, carried);
  const scheduler = new DagScheduler(snapshot.nodes.map((n) => n.id), snapshot.edges);
  let bounded: boolean | undefined;
  const expressionsBounded = () => (bounded ??= patched(BOUNDED_EXPRESSIONS_PATCH));
  const waits = new RunWaits(runId, setStatus);
  const awaitApproval = installApprovals({ runId, expressionsBounded, waits });
  const resolveOutgoing = edgeResolver({ state, scheduler, expressionsBounded });
  const runner = new NodeRunner({
    state,
    scheduler,
    snapshot,
    gpuTaskQueue: args.gpuTaskQueue,
    resolveOutgoing,
    awaitApproval,
    controlRunner: controlRunners({ args, waits }, events),
  });
  let cancelled = false;
  // Set when the history grows large: start nothing more, let running nodes finish, continue as new.
  let draining = false;
  const stopped = () => cancelled || draining || (runner.failFast && state.failure !== null);

  for (;;) {
    const seen = runner.settled;
    const outcomes = await takeDecided(state, scheduler, runner.queue, carried, reuse, resolveOutgoing);
    if (outcomes.length) await record(() => bookkeeping.recordNodeOutcomes({ runId, outcomes }));
    if (!stopped() && runner.queue.length) runner.startQueued();
    if (!runner.running.size) break;
    // Nodes that settled while this pass awaited bookkeeping are handled on the next pass without waiting.
    await runner.nextSettlement(seen);
    const info = workflowInfo();
    if (!draining && (info.continueAsNewSuggested || info.historyLength > maxHistoryEvents)) draining = true;
    if (CancellationScope.current().consideredCancelled) {
      cancelled = true;
      // Wait for every running activity to confirm its cancellation before recording the run.
      await record(() => Promise.allSettled(runner.running.values()));
      break;
    }
  }
  cancelled ||= CancellationScope.current().consideredCancelled;

  if (draining && runner.queue.length && !cancelled && !(runner.failFast && state.failure)) {
    // Keep the history within Temporal's limits: hand what is finished to a fresh execution of this run.
    await continueAsNew<typeof runDag>({ ...args, carried: { ...state.carry(), events: events.pending() } });
  }
  return await finishRun(state, cancelled, setStatus, args);
}

/**
 * Takes what the scheduler decided since the last pass: skipped nodes, and ready nodes that need no activity
 * (finished by an earlier execution of this run, or reused from an earlier run), whose outgoing edges may
 * decide more; the others join the queue. Answers the outcomes to record.
 */
async function takeDecided(
  state: RunState,
  scheduler: DagScheduler,
  queue: string[],
  carried: CarriedState,
  reuse: Record<string, unknown>,
  resolveOutgoing: (id: string) => Promise<void>,
): Promise<NodeOutcome[]> {
  const outcomes: NodeOutcome[] = [];
  let progressed = true;
  while (progressed) {
    progressed = false;
    for (const id of scheduler.takeSkipped()) {
      const node = state.graph.byId.get(id)!;
      state.skipped(id);
      outcomes.push({
        node_id: id,
        node_name: node.name,
        type: node.type,
        status: "skipped",
        reason: "no incoming edge was taken",
      });
    }
    for (const id of scheduler.takeReady()) {
      if (Object.hasOwn(carried.succeeded, id)) {
        // Finished (and recorded) by an earlier execution of this run.
        state.succeeded(id, carried.succeeded[id]);
        await resolveOutgoing(id);
        progressed = true;
      } else if (carried.failed.includes(id)) {
        state.failed(id);
        scheduler.resolveOutgoing(id, false);
        progressed = true;
      } else if (Object.hasOwn(reuse, id)) {
        const node = state.graph.byId.get(id)!;
        state.succeeded(id, reuse[id], "reused");
        outcomes.push({ node_id: id, node_name: node.name, type: node.type, status: "reused", output: reuse[id] });
        await resolveOutgoing(id);
        progressed = true;
      } else queue.push(id);
    }
  }
  return outcomes;
}

/** Records how the run ended and answers (or throws) what the workflow ends with. */
async function finishRun(
  state: RunState,
  cancelled: boolean,
  setStatus: (status: RunStatus) => void,
  args: RunDagInput,
): Promise<RunDagResult> {
  const { runId } = state;
  const output = state.output();
  setStatus(state.finalStatus(cancelled));
  if (cancelled) {
    await record(() =>
      bookkeeping.markRunFinished({ runId, status: "cancelled", output, error: { message: "the run was cancelled" } })
    );
    throw new CancelledFailure("the run was cancelled");
  }
  const error = state.failure;
  if (error) {
    await startErrorRun(args, error);
    await record(() => bookkeeping.markRunFinished({ runId, status: "failed", output, error }));
    throw ApplicationFailure.nonRetryable(error.message, NODE_FAILED, error);
  }
  await record(() => bookkeeping.markRunFinished({ runId, status: "succeeded", output, error: null }));
  return { status: "succeeded", output };
}
