/**
 * What bench/engine.ts and bench/control-flow.ts run against: the bench's Temporal server and database, a local
 * HTTP server every node (and every baseline activity) calls, the API and bench/engine-worker.ts (Weft's
 * activities plus the hand-written baselines), a Temporal client and the API logged in.
 */
import { Client, Connection } from "@temporalio/client";
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { WeftApi } from "./engine-api.ts";
import {
  BENCH_DATABASE_URL,
  BENCH_JWT_SECRET,
  BENCH_TEMPORAL_ADDRESS,
  DENO_BIN,
  freePort,
  spawnLogged,
  startBenchStack,
  waitForLog,
} from "./stack.ts";

export const BENCH_TASK_QUEUE = "weft-bench";

export async function startEngineBench(name: string, dynamicConfig: string[] = []) {
  const stopStack = await startBenchStack(dynamicConfig);
  console.log(`Temporal dev server on ${BENCH_TEMPORAL_ADDRESS}: ${dynamicConfig.join(" ") || "default settings"}`);
  // The HTTP work of every node, Weft's and the baseline's: a local server answering a small JSON body.
  const http = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"ok":true,"city":"tokyo","temp_c":21.5}');
  });
  const httpPort = await freePort();
  http.listen(httpPort, "127.0.0.1");
  const url = `http://127.0.0.1:${httpPort}/weather`;

  mkdirSync(".state/logs", { recursive: true });
  const env = {
    DATABASE_URL: BENCH_DATABASE_URL,
    TEMPORAL_ADDRESS: BENCH_TEMPORAL_ADDRESS,
    WEFT_TASK_QUEUE: BENCH_TASK_QUEUE,
    WEFT_EGRESS_ALLOW: "127.0.0.1", // the local HTTP server every node calls
  };
  const apiPort = await freePort();
  const apiProc = await spawnLogged(
    DENO_BIN,
    ["run", "-A", "api/main.ts"],
    { ...env, JWT_SECRET: BENCH_JWT_SECRET, PORT: String(apiPort), WEFT_METRICS_PORT: "0" },
    `.state/logs/bench-${name}-api.log`,
    `http://127.0.0.1:${apiPort}/healthz`,
  );
  const workerLog = `.state/logs/bench-${name}-worker.log`;
  // BENCH_WORKER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the worker.
  const workerArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const workerProc = await spawnLogged(
    "node",
    [...workerArgs, "--import", "tsx", "bench/engine-worker.ts"],
    env,
    workerLog,
  );
  const connection = await Connection.connect({ address: BENCH_TEMPORAL_ADDRESS });
  const temporal = new Client({ connection });
  const stop = async () => {
    await connection.close();
    apiProc.kill("SIGTERM");
    workerProc.kill("SIGTERM");
    http.close();
    stopStack();
  };
  try {
    await waitForLog(workerLog, /worker started/, 120_000);
  } catch (err) {
    await stop();
    throw err;
  }
  const api = new WeftApi(`http://127.0.0.1:${apiPort}`);
  await api.login(`${name}-bench@weft.local`, "bench password");
  return { api, temporal, url, apiProc, workerProc, stop };
}
