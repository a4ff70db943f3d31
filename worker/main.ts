/** The worker process's entry (Node): parses the configuration once, then runs (worker/run.ts). */
import process from "node:process";
import { expressionChildEnv, loadWorkerConfig, type WorkerConfig } from "./config.ts";
import { runWorker } from "./run.ts";

let config: WorkerConfig;
try {
  config = loadWorkerConfig(process.env);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
await runWorker(config, { expressionEnv: expressionChildEnv(process.env) });
