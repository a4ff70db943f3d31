/** A throwaway stack for benchmarks: its own Temporal dev server, database and spawned processes. */
import { execFileSync, spawn } from "node:child_process";
import { openSync } from "node:fs";
import { createServer } from "node:net";
import postgres from "postgres";
import { migrate } from "../db/migrate.ts";

export const BENCH_TEMPORAL_PORT = 7298;
export const BENCH_TEMPORAL_ADDRESS = `127.0.0.1:${BENCH_TEMPORAL_PORT}`;
export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/weft_bench";
export const BENCH_JWT_SECRET = "weft-bench-secret-0123456789abcdef0123456789";

export async function startBenchStack(): Promise<() => void> {
  const said = execFileSync("bash", ["scripts/temporal-dev.sh", String(BENCH_TEMPORAL_PORT), "", ""]).toString();
  const admin = postgres(BENCH_DATABASE_URL.replace(/\/[^/]+$/, "/postgres"), { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS "${new URL(BENCH_DATABASE_URL).pathname.slice(1)}" WITH (FORCE)`);
  await admin.end();
  await migrate(BENCH_DATABASE_URL);
  return () => {
    if (said.includes("dev server ready")) {
      execFileSync("bash", ["-c", `kill $(cat .state/temporal/server-${BENCH_TEMPORAL_PORT}.pid) 2>/dev/null || true`]);
    }
  };
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
