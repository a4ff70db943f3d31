/** CPU time from /proc (Linux): per process tree, per set of PostgreSQL backends, and for the whole machine. */
import { readdirSync, readFileSync } from "node:fs";

const TICK_MS = 10; // USER_HZ is 100 on Linux

function stat(pid: number): { ppid: number; ms: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" "); // f[0] is field 3 (state)
    return { ppid: Number(f[1]), ms: (Number(f[11]) + Number(f[12])) * TICK_MS };
  } catch {
    return null; // exited
  }
}

/** CPU ms so far of `root` and every live descendant. */
export function treeMs(root: number): number {
  const children = new Map<number, number[]>();
  const ms = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (!s) continue;
    ms.set(Number(name), s.ms);
    children.set(s.ppid, [...(children.get(s.ppid) ?? []), Number(name)]);
  }
  let total = 0;
  const todo = [root];
  while (todo.length) {
    const pid = todo.pop()!;
    total += ms.get(pid) ?? 0;
    todo.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** CPU ms so far of each pid (absent pids count 0, so backends started during a window count in full). */
export const pidsMs = (pids: number[]) => new Map(pids.map((p) => [p, stat(p)?.ms ?? 0]));

/** Machine-wide busy and total CPU ms (all cores) from /proc/stat. */
export function machineMs(): { busy: number; total: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0) * TICK_MS;
  return { busy: total - (f[3] + f[4]) * TICK_MS, total };
}

export type Sample = Record<string, number>;
type PgQuery = (query: string) => Promise<{ pid: number }[]>;
export interface Snapshot {
  at: number;
  ms: Sample;
  pg: Map<number, number>;
  pgBg: Map<number, number>;
}

/**
 * Samples CPU ms of named process trees, of this process, of the PostgreSQL backends connected to the bench
 * database and of PostgreSQL's background processes, and of the whole machine. `diff` of two samples is
 * the CPU each used in between; backends that appear in between count in full.
 */
export function cpuMeter(trees: Record<string, number>, pg: PgQuery) {
  return {
    async sample(): Promise<Snapshot> {
      const backends = await pg(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
      );
      const bg = await pg("SELECT pid FROM pg_stat_activity WHERE backend_type <> 'client backend'");
      const ms: Sample = {};
      for (const [name, pid] of Object.entries(trees)) ms[name] = treeMs(pid);
      const own = process.cpuUsage();
      ms.bench = (own.user + own.system) / 1000;
      const m = machineMs();
      ms.machine_busy = m.busy;
      ms.machine_total = m.total;
      return {
        at: performance.now(),
        ms,
        pg: pidsMs(backends.map((r) => r.pid)),
        pgBg: pidsMs(bg.map((r) => r.pid)),
      };
    },
    diff(a: Snapshot, b: Snapshot): Sample {
      const out: Sample = { wall: b.at - a.at };
      for (const k of Object.keys(b.ms)) out[k] = b.ms[k] - a.ms[k];
      const sum = (after: Map<number, number>, before: Map<number, number>) =>
        [...after].reduce((t, [pid, ms]) => t + ms - (before.get(pid) ?? 0), 0);
      out.postgres = sum(b.pg, a.pg);
      out.postgres_background = sum(b.pgBg, a.pgBg);
      return out;
    },
  };
}
