/** The worker process (Node): runs the DAG workflow and the node activities on one task queue. */
import { NativeConnection, Worker } from "@temporalio/worker";
import { createActivities } from "../activities/index.ts";
import { connect } from "../db/client.ts";
import { WORKFLOWS_PATH } from "./bundle.ts";
import { loadWorkerConfig } from "./config.ts";

let config;
try {
  config = loadWorkerConfig(process.env);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}

const log = (msg: string, fields: Record<string, unknown> = {}) =>
  console.log(
    JSON.stringify({ time: new Date().toISOString(), level: "info", msg, service: "weft-worker", ...fields }),
  );

const sql = connect(config.DATABASE_URL, { max: 20 });
const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
const worker = await Worker.create({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  taskQueue: config.WEFT_TASK_QUEUE,
  ...(config.WORKFLOW_BUNDLE_PATH
    ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH } }
    : { workflowsPath: WORKFLOWS_PATH }),
  activities: createActivities({ sql }),
  maxConcurrentActivityTaskExecutions: config.MAX_CONCURRENT_ACTIVITIES,
  maxCachedWorkflows: config.MAX_CACHED_WORKFLOWS,
  // SIGINT/SIGTERM drain the worker: running activities finish or are handed back before exit.
  shutdownGraceTime: "30s",
});
log("worker started", { task_queue: config.WEFT_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE });
await worker.run();
await sql.end({ timeout: 5 });
await connection.close();
log("worker stopped");
