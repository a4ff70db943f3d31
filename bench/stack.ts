/** A throwaway stack for benchmarks: its own Temporal dev server, database and spawned processes. */
import { execFileSync, spawn } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import postgres from "postgres";
import { migrate } from "../db/migrate.ts";

// Overridable so that benchmarks of parallel worktrees on one machine do not share a server (and its task queues).
export const BENCH_TEMPORAL_PORT = Number(process.env.BENCH_TEMPORAL_PORT ?? 7298);
export const BENCH_TEMPORAL_ADDRESS = `127.0.0.1:${BENCH_TEMPORAL_PORT}`;
export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/weft_bench";
export const BENCH_JWT_SECRET = "weft-bench-secret-0123456789abcdef0123456789";
/** The Deno binary itself: node_modules/.bin/deno is a Node wrapper, and killing it would orphan Deno. */
export const DENO_BIN = "node_modules/deno/deno";

/**
 * Starts the bench's Temporal dev server (scripts/temporal-dev.sh) and a fresh database. `dynamicConfig` values
 * (say "history.transferProcessorMaxPollRPS=1000") start the server with the script's flags plus those.
 */
export async function startBenchStack(dynamicConfig: string[] = []): Promise<() => void> {
  const said = dynamicConfig.length
    ? startTemporalWith(dynamicConfig)
    : execFileSync("bash", ["scripts/temporal-dev.sh", String(BENCH_TEMPORAL_PORT), "", ""]).toString();
  const admin = postgres(BENCH_DATABASE_URL.replace(/\/[^/]+$/, "/postgres"), { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS "${new URL(BENCH_DATABASE_URL).pathname.slice(1)}" WITH (FORCE)`);
  await admin.end();
  await migrate(BENCH_DATABASE_URL);
  return () => {
    if (said.includes("dev server ready")) {
      // Waits for the exit too, so that a bench started right after cannot find this server still answering.
      const pidFile = `.state/temporal/server-${BENCH_TEMPORAL_PORT}.pid`;
      execFileSync("bash", [
        "-c",
        `p=$(cat ${pidFile}); kill $p 2>/dev/null; for _ in $(seq 100); do kill -0 $p 2>/dev/null || break; sleep 0.1; done`,
      ]);
    }
  };
}

/** scripts/temporal-dev.sh run with its own flags plus `--dynamic-config-value` for each of `values`. */
function startTemporalWith(values: string[]): string {
  const script = readFileSync("scripts/temporal-dev.sh", "utf8");
  if (!/^nohup /m.test(script)) throw new Error("scripts/temporal-dev.sh changed: no `nohup` line to add flags before");
  const extra = values.map((v) => `args+=(--dynamic-config-value '${v}')`).join("\n");
  const patched = script.replace(/^nohup /m, `${extra}\nnohup `);
  const port = String(BENCH_TEMPORAL_PORT);
  const said = execFileSync("bash", ["-c", patched, "scripts/temporal-dev.sh", port, "", ""]).toString();
  if (!said.includes("dev server ready")) {
    throw new Error(`${said.trim()}: stop that server first, so that one with ${values.join(" ")} can start`);
  }
  return said;
}

export const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

/** Spawns a process whose output goes to a log file (not a pipe we would have to drain). */
export async function spawnLogged(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  log: string,
  readyUrl?: string,
) {
  const fd = openSync(log, "w");
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", fd, fd] });
  if (readyUrl) {
    for (let i = 0; i < 200; i++) {
      try {
        if ((await fetch(readyUrl)).ok) break;
      } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return proc;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Waits until a log file written by spawnLogged matches `ready`; throws with the log's tail if it never does. */
export async function waitForLog(log: string, ready: RegExp, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (ready.test(readFileSync(log, "utf8"))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${log} never matched ${ready}:\n${readFileSync(log, "utf8").slice(-2000)}`);
}
