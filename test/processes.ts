/** Spawning the real processes the tests drive: the Node worker and the Deno API. */
import { type ChildProcess, spawn } from "node:child_process";
import {
  TEST_BUNDLE_PATH,
  TEST_DATABASE_URL,
  TEST_JWT_SECRET,
  TEST_PAYLOAD_KEY,
  TEST_SECRETS_KEY,
  TEST_TEMPORAL_ADDRESS,
} from "./env.ts";

export interface Spawned {
  proc: ChildProcess;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

function spawnUntil(cmd: string, args: string[], env: Record<string, string>, ready: RegExp, timeoutMs = 60_000) {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const spawned: Spawned = {
    proc,
    output: () => out,
    stop: (signal = "SIGTERM") =>
      new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill(signal);
      }),
  };
  return new Promise<Spawned>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${cmd} did not become ready:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.length > 200_000) out = out.slice(-100_000);
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(spawned);
      }
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code} before it was ready:\n${out}`));
    });
  });
}

/** `entry`: worker/main.ts, or a test entry that injects hooks (test/fault-worker.ts). */
export function startWorker(
  taskQueue: string,
  extraEnv: Record<string, string> = {},
  entry = "worker/main.ts",
): Promise<Spawned> {
  return spawnUntil("node", ["--import", "tsx", entry], {
    DATABASE_URL: TEST_DATABASE_URL,
    TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
    WEFT_TASK_QUEUE: taskQueue,
    WORKFLOW_BUNDLE_PATH: TEST_BUNDLE_PATH,
    // The tests' upstream servers listen on loopback, which egress rules deny unless allowed.
    WEFT_EGRESS_ALLOW: "127.0.0.1",
    WEFT_SECRETS_KEY: TEST_SECRETS_KEY,
    WEFT_PAYLOAD_KEY: TEST_PAYLOAD_KEY,
    // Parallel test stacks on one machine (worktrees) must not fight over the default metrics port.
    WORKER_METRICS_PORT: String(20_000 + Math.floor(Math.random() * 20_000)),
    ...extraEnv,
  }, /"worker started"/);
}

export function startDenoApi(port: number, taskQueue: string, extraEnv: Record<string, string> = {}): Promise<Spawned> {
  // The binary itself: killing the npm shim (node_modules/.bin/deno) would leave Deno running.
  return spawnUntil("node_modules/deno/deno", [
    "run",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-ffi",
    "--allow-sys",
    "api/main.ts",
  ], {
    DATABASE_URL: TEST_DATABASE_URL,
    TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
    WEFT_TASK_QUEUE: taskQueue,
    JWT_SECRET: TEST_JWT_SECRET,
    WEFT_SECRETS_KEY: TEST_SECRETS_KEY,
    WEFT_PAYLOAD_KEY: TEST_PAYLOAD_KEY,
    PORT: String(port),
    // Several APIs run at once in the tests: none takes the default metrics port (test/metrics.test.ts sets one).
    WEFT_METRICS_PORT: "0",
    // Every test's requests come from 127.0.0.1: failed logins across the suite must not lock it out.
    LOGIN_MAX_FAILURES_PER_ADDRESS: "1000000",
    ...extraEnv,
  }, /"msg":"listening"/);
}
