/** What a chaos scenario found, and the table that prints it (test/chaos.test.ts, bench/chaos.ts). */

export type Fault = "none" | "worker" | "temporal" | "api" | "worker+temporal" | "workers x4" | "burst";

export interface ScenarioResult {
  name: string;
  accepted: number;
  final: number;
  succeeded: number;
  dbRowsExactlyOnce: boolean;
  httpDuplicates: number;
  unexplainedDuplicates: number;
  orphans: number;
  fiveHundredsOutsideFault: number;
  recoveryS: number | null;
  oneRunPerKey: boolean;
  wallS: number;
}

/** The table: a column per scenario, a row per check. */
export function chaosTable(results: ScenarioResult[]): string {
  const checks: [string, (r: ScenarioResult) => string][] = [
    ["accepted runs", (r) => String(r.accepted)],
    ["every accepted run final", (r) => (r.final === r.accepted ? "yes" : `NO (${r.final})`)],
    ["succeeded", (r) => String(r.succeeded)],
    ["db_write rows exactly once", (r) => (r.dbRowsExactlyOnce ? "yes" : "NO")],
    [
      "HTTP duplicates (all in flight at a kill)",
      (r) => `${r.httpDuplicates}${r.unexplainedDuplicates ? ` (${r.unexplainedDuplicates} NOT)` : ""}`,
    ],
    ["orphaned runs", (r) => String(r.orphans)],
    ["5xx outside the fault window", (r) => String(r.fiveHundredsOutsideFault)],
    ["one run per Idempotency-Key", (r) => (r.oneRunPerKey ? "yes" : "NO")],
    ["fault → all final (s)", (r) => (r.recoveryS === null ? "–" : String(r.recoveryS))],
    ["scenario wall time (s)", (r) => String(r.wallS)],
  ];
  const header = ["check", ...results.map((r) => r.name)];
  const lines = [header, header.map(() => "---"), ...checks.map(([label, f]) => [label, ...results.map(f)])];
  return lines.map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

/** Whether a scenario passed every check. */
export const passed = (r: ScenarioResult) =>
  r.final === r.accepted && r.succeeded === r.accepted && r.dbRowsExactlyOnce && r.unexplainedDuplicates === 0 &&
  r.orphans === 0 && r.fiveHundredsOutsideFault === 0 && r.oneRunPerKey;
