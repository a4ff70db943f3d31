/** Bench worker: Weft's activities plus rawHttp (the baseline), bench/engine-workflows.ts bundled at start. */
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
import type { RawActivities } from "./engine-workflows.ts";
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
const { code } = await bundleWorkflowCode({
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
const worker = await Worker.create({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  taskQueue: config.WEFT_TASK_QUEUE,
  workflowBundle: { code },
  activities: {
    ...createActivities({ ...activityDeps(sql, config, { expressions, log: () => {} }), egress }),
    ...rawActivities,
  },
  maxConcurrentActivityTaskExecutions: config.MAX_CONCURRENT_ACTIVITIES,
  maxCachedWorkflows: config.MAX_CACHED_WORKFLOWS,
  shutdownGraceTime: "5s",
});
console.log(JSON.stringify({ msg: "worker started", task_queue: config.WEFT_TASK_QUEUE }));
await worker.run();
await sql.end({ timeout: 5 });
await connection.close();
