/**
 * Temporal's local test server (the installed `temporal` CLI, on a free port) with one worker running Weft's
 * workflow bundle against fake activities routed per run: what workflows/*.test.ts run against.
 */
import type {
  ApplicationFailure,
  WorkflowFailedError,
  WorkflowHandleWithFirstExecutionRunId as WorkflowHandle,
} from "@temporalio/client";
import { TestWorkflowEnvironment } from "@temporalio/testing";
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from "@temporalio/worker";
import { fileURLToPath } from "node:url";
import { WORKFLOWS_PATH } from "../worker/bundle.ts";
import {
  type RunDagInput,
  type RunDagResult,
  type SnapshotNode,
  WORKFLOW_TYPES,
  workflowArgs,
  workflowIds,
  type WorkflowSnapshot,
} from "../core/contract.ts";
import { type FakeActivities, routedActivities } from "./fake-activities.ts";

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

export interface WorkflowTestEnv {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  /** Runs one runDag with `fakes` as its activities (its child runs' too); answers its result or failure. */
  runDag(
    snapshot: WorkflowSnapshot,
    fakes: FakeActivities,
    extra?: Partial<RunDagInput>,
    during?: (handle: WorkflowHandle) => Promise<void>,
  ): Promise<{ result?: RunDagResult; error?: WorkflowFailedError; handle: WorkflowHandle }>;
  stop(): Promise<void>;
}

let seq = 0;

/** Starts the server and a worker on `taskQueue`; each activity call goes to the fakes of the run it is for. */
export async function startWorkflowTestEnv(taskQueue: string): Promise<WorkflowTestEnv> {
  const fakesByWorkflow = new Map<string, FakeActivities>();
  // A child run's activities go to its parent's fakes; a map batch's (weft-run-<run>-map-…) to its run's.
  const fakesFor = (id: string): FakeActivities => {
    const batchOf = /^(weft-run-[0-9a-f-]{36})-map-/.exec(id);
    if (batchOf) return fakesFor(batchOf[1]);
    return fakesByWorkflow.get(id) ??
      [...fakesByWorkflow.values()].find((f) => f.children.some((c) => workflowIds.run(c.runId) === id))!;
  };
  Runtime.install({ logger: new DefaultLogger("ERROR") });
  const [env, { code }] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: {
          type: "existing-path",
          path: fileURLToPath(new URL("../.state/venv/bin/temporal", import.meta.url)),
        },
        ip: "127.0.0.1",
        log: { format: "pretty", level: "error" },
        extraArgs: ["--dynamic-config-value", "frontend.enableUpdateWorkflowExecution=true"],
      },
    }),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet }),
  ]);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { code },
    activities: routedActivities(fakesFor),
    // Cancellation reaches an activity with a heartbeat's answer: heartbeat often, so cancelling takes no seconds.
    maxHeartbeatThrottleInterval: "50ms",
    defaultHeartbeatThrottleInterval: "50ms",
  });
  const running = worker.run();
  return {
    env,
    taskQueue,
    async runDag(snapshot, fakes, extra = {}, during) {
      const runId = extra.runId ?? `00000000-0000-4000-8000-${String(++seq).padStart(12, "0")}`;
      const workflowId = workflowIds.run(runId);
      fakesByWorkflow.set(workflowId, fakes);
      const handle = await env.client.workflow.start(WORKFLOW_TYPES.runDag, {
        taskQueue,
        workflowId,
        args: workflowArgs("runDag", { runId, input: { n: 1 }, snapshot, ...extra }),
      });
      await during?.(handle);
      try {
        return { result: await handle.result(), handle };
      } catch (err) {
        return { error: err as WorkflowFailedError, handle };
      }
    },
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}

/** An edge between the nodes named (node ids are `id-<name>`), with its condition. */
export const edge = (from: string, to: string, condition: string | null = null) => ({
  id: `${from}-${to}`,
  source_node_id: `id-${from}`,
  target_node_id: `id-${to}`,
  condition,
});

/** A snapshot of these nodes and edges (workflow "wf", fail_fast, max_parallel 10), with `extra` settings. */
export const graph = (
  nodes: SnapshotNode[],
  edges: ReturnType<typeof edge>[],
  extra: Partial<WorkflowSnapshot> = {},
): WorkflowSnapshot => ({
  workflow_id: "wf",
  version: 1,
  hash: "h",
  max_parallel: 10,
  on_failure: "fail_fast",
  nodes,
  edges,
  ...extra,
});

/** The failure a failed runDag ended with. */
export const cause = (err: WorkflowFailedError | undefined) => err?.cause as ApplicationFailure | undefined;
