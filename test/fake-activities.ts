/**
 * Fake activities for runDag's own tests (workflows/run-dag.test.ts): node behaviour by node name, and a record
 * of every call the workflow made. Nothing touches PostgreSQL or the network.
 */
import { Context } from "@temporalio/activity";
import type { GroupOutcome, NodeOutcome, WorkflowActivities } from "../core/contract.ts";
import { isTruthy } from "../core/dag-scheduler.ts";
import { evaluateExpression, renderTemplate } from "../core/template.ts";
import { CONTROL_FLOW_ACTIVITIES, controlFlowFakes } from "./fake-control-flow.ts";

type NodeContext = { input: unknown; nodes: Record<string, { output: unknown }>; run: { id: string } };
/** What a node does: answer its output (or throw), or wait until the run cancels it. */
export type Behaviour = ((ctx: NodeContext) => unknown) | "wait-for-cancel";

export type FakeActivities = ReturnType<typeof fakeActivities>;

export function fakeActivities(behaviours: Record<string, Behaviour>) {
  const waiters: { name: string; kind: "executing" | "waiting"; resolve: () => void }[] = [];
  const notify = (kind: "executing" | "waiting", name: string) => {
    for (const w of waiters.filter((w) => w.kind === kind && w.name === name)) w.resolve();
  };
  const when = (kind: "executing" | "waiting", name: string) =>
    new Promise<void>((resolve) => waiters.push({ name, kind, resolve }));

  const record = {
    executed: [] as string[],
    cancelled: [] as string[],
    groups: [] as string[][],
    outcomes: [] as NodeOutcome[],
    finished: [] as Parameters<WorkflowActivities["markRunFinished"]>[0][],
    statuses: [] as string[],
    /** Control-flow nodes' executions (workflows/nodes/): started, then how they ended. */
    controls: [] as { node: string; status: string; input?: unknown; output?: unknown; error?: unknown }[],
    /** Child runs created (sub_workflow, map over a workflow) and error runs. */
    children: [] as { trigger: string; workflowId: string; input: unknown; runId: string }[],
    /** Chunks of map items run, [from, to). */
    mapChunks: [] as { from: number; to: number }[],
    mapItemRecords: [] as { index: number; status: string }[][],
    approvals: [] as { node: string; input: unknown; status?: string }[],
    /** markRunStarted calls: only histories from before the weft-lean-bookkeeping patch make them. */
    started: 0,
    /** The workflow executions (Temporal run ids) that ran a node or finished the run. */
    executions: new Set<string>(),
  };
  const seenExecution = () => record.executions.add(Context.current().info.workflowExecution!.runId);

  async function runNode(name: string, context: NodeContext): Promise<unknown> {
    record.executed.push(name);
    seenExecution();
    notify("executing", name);
    const behaviour = behaviours[name] ?? (() => null);
    if (behaviour !== "wait-for-cancel") return await behaviour(context);
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(), 50);
    try {
      return await ctx.cancelled;
    } catch (err) {
      record.cancelled.push(name);
      throw err;
    } finally {
      clearInterval(beat);
    }
  }

  const activities: Partial<WorkflowActivities> = {
    executeNode: ({ node, context }) => runNode(node.name, context as NodeContext),
    async executeNodeGroup(group) {
      record.groups.push(group.members.map((m) => m.node.name));
      return await Promise.all(group.members.map(async ({ node, reads }): Promise<GroupOutcome> => {
        const nodes = Object.fromEntries(reads.map((r) => [r, group.nodes[r]]));
        try {
          return {
            status: "succeeded",
            output: await runNode(node.name, { input: group.input, nodes, run: { id: group.runId } }),
          };
        } catch (err) {
          return {
            status: "failed",
            error: { message: (err as Error).message, type: "InvalidConfig", retryable: false },
          };
        }
      }));
    },
    markRunStarted: () => {
      record.started++;
      return Promise.resolve();
    },
    setRunStatus: ({ status }) => {
      record.statuses.push(status);
      return Promise.resolve();
    },
    recordApprovalWaiting: (r) => {
      record.approvals.push({ node: r.node_name, input: r.input });
      notify("waiting", r.node_name);
      return Promise.resolve();
    },
    recordApprovalDecision: (r) => {
      const approval = record.approvals.find((a) => `id-${a.node}` === r.node_id || a.node === r.node_id);
      if (approval) approval.status = r.status;
      return Promise.resolve();
    },
    recordNodeOutcomes: ({ outcomes }) => {
      record.outcomes.push(...outcomes);
      return Promise.resolve();
    },
    markRunFinished: (finish) => {
      seenExecution();
      record.finished.push(finish);
      return Promise.resolve();
    },
    evaluateConditions: ({ runId, input, nodes, conditions }) =>
      Promise.all(conditions.map(async ({ condition, reads }) => {
        const context = { input, nodes: Object.fromEntries(reads.map((r) => [r, nodes[r]])), run: { id: runId } };
        try {
          return { taken: isTruthy(await evaluateExpression(condition, context)) };
        } catch (err) {
          return { error: (err as Error).message };
        }
      })),
    evaluateCondition: async ({ condition, context }) => isTruthy(await evaluateExpression(condition, context)),
    renderApprovalInput: async ({ value, context }) =>
      (await renderTemplate(value, context)) as Record<string, unknown>,
    ...controlFlowFakes(record, behaviours),
  };

  return Object.assign(record, {
    activities,
    /** Resolves once the node's activity has started. */
    executing: (name: string) => when("executing", name),
    /** Resolves once the approval node is recorded as waiting. */
    waitingFor: (name: string) => when("waiting", name),
  });
}

/**
 * Activities for one worker shared by many runs: each call goes to the fakes of the run (workflow id) it is for,
 * so a test file starts one worker however many runs it makes.
 */
export function routedActivities(fakesFor: (workflowId: string) => FakeActivities): Partial<WorkflowActivities> {
  const names: (keyof WorkflowActivities)[] = [
    "executeNode",
    "executeNodeGroup",
    "markRunStarted",
    "setRunStatus",
    "recordApprovalWaiting",
    "recordApprovalDecision",
    "recordNodeOutcomes",
    "markRunFinished",
    "evaluateConditions",
    "evaluateCondition",
    "renderApprovalInput",
    ...CONTROL_FLOW_ACTIVITIES,
  ];
  return Object.fromEntries(names.map((name) => [name, (...args: unknown[]) => {
    const fakes = fakesFor(Context.current().info.workflowExecution!.workflowId);
    return (fakes.activities[name] as (...a: unknown[]) => Promise<unknown>)(...args);
  }]));
}
