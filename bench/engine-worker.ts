/**
 * Bench worker: one process, two Temporal workers on one connection. Weft's, on WEFT_TASK_QUEUE, with the workflow
 * bundle and activities the production worker has; the hand-written baselines' (bench/engine-workflows.ts, bundled
 * on their own at start), on rawTaskQueue(WEFT_TASK_QUEUE) with rawHttp and rawTransform.
 */
import { Context } from "@temporalio/activity";
import { bundleWorkflowCode, NativeConnection, Worker } from "@temporalio/worker";
import { fileURLToPath } from "node:url";
import { egressPolicyFor } from "../activities/http/control-plane.ts";
import { httpRequest } from "../activities/http/index.ts";
import { createActivities } from "../activities/index.ts";
import { ExpressionPool } from "../activities/expressions/pool.ts";
import { activityDeps } from "../worker/activity-deps.ts";
import { connect } from "../db/client.ts";
import { expressionChildEnv, loadWorkerConfig } from "../worker/config.ts";
import { type RawActivities, rawTaskQueue } from "./engine-workflows.ts";
import { buildWorkflowBundle, FAILURE_CONVERTER_PATH } from "../worker/bundle.ts";
import { evaluateExpression } from "../core/template.ts";

const config = loadWorkerConfig(process.env);
const egress = egressPolicyFor(config); // the same policy Weft's own http_request nodes get
const rawActivities: RawActivities = {
  async rawHttp(url) {
    const started = performance.now();
    const out = await httpRequest({ method: "GET", url }, Context.current().cancellationSignal, egress);
    return { ...out, activity_ms: performance.now() - started };
  },
  rawTransform: (expression, item) => evaluateExpression(expression, { item }),
};
const weftCode = await buildWorkflowBundle();
const { code: rawCode } = await bundleWorkflowCode({
  workflowsPath: fileURLToPath(new URL("./engine-workflows.ts", import.meta.url)),
  logger: undefined,
});
// The same settings as worker/main.ts.
const sql = connect(config.DATABASE_URL, { max: 20 });
const expressions = new ExpressionPool({
  timeoutMs: config.WEFT_EXPRESSION_TIMEOUT_MS,
  memoryMb: config.WEFT_EXPRESSION_MEMORY_MB,
  maxProcesses: config.WEFT_EXPRESSION_MAX_PROCESSES,
}, expressionChildEnv(process.env));
const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
const common = {
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  maxConcurrentActivityTaskExecutions: config.MAX_CONCURRENT_ACTIVITIES,
  maxCachedWorkflows: config.MAX_CACHED_WORKFLOWS,
  shutdownGraceTime: 5_000,
};
const weft = await Worker.create({
  ...common,
  taskQueue: config.WEFT_TASK_QUEUE,
  // As worker/run.ts sets them up without tracing or payload keys (the bench API sets neither).
  workflowBundle: { code: weftCode },
  dataConverter: { failureConverterPath: FAILURE_CONVERTER_PATH },
  sinks: { exporter: { export: { fn: () => {} } } },
  activities: createActivities({ ...activityDeps(sql, config, { expressions, log: () => {} }), egress }),
});
const raw = await Worker.create({
  ...common,
  taskQueue: rawTaskQueue(config.WEFT_TASK_QUEUE),
  workflowBundle: { code: rawCode },
  activities: rawActivities,
});
console.log(JSON.stringify({ msg: "worker started", task_queue: config.WEFT_TASK_QUEUE }));
await Promise.all([weft.run(), raw.run()]);
await sql.end({ timeout: 5 });
await connection.close();
