/**
 * Temporal's local test server (the installed `temporal` CLI, on a free port) with one worker running Weft's
 * workflow bundle against fake activities routed per run: what workflows/*.test.ts run against.
 */
import { TestWorkflowEnvironment } from "@temporalio/testing";
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from "@temporalio/worker";
import { fileURLToPath } from "node:url";
import { WORKFLOWS_PATH } from "../worker/bundle.ts";
import { type FakeActivities, routedActivities } from "./fake-activities.ts";

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

export interface WorkflowTestEnv {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  stop(): Promise<void>;
}

/** Starts the server and a worker on `taskQueue`; each activity call goes to `fakesFor(its workflow id)`. */
export async function startWorkflowTestEnv(
  taskQueue: string,
  fakesFor: (workflowId: string) => FakeActivities,
): Promise<WorkflowTestEnv> {
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
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}
