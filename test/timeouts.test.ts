/**
 * `timeout_ms` with the real worker: a hanging upstream (a local server that never answers and records when
 * each request opened and closed) times attempts out at their timeout, each attempt's request is closed before
 * the next attempt starts, and the rows say `Timeout`, not `cancelled` — for lone nodes, group members and
 * db_write (whose handler takes no abort signal; it also sets its own statement timeout, so this case shows the
 * row, not which of the two bounds fired first).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWorkflow, call, waitForRun } from "./helpers.ts";
import { useApiHarness } from "./harness.ts";

interface Seen {
  path: string;
  opened: number;
  closed?: number;
}

const seen: Seen[] = [];
const server = createServer((req, res) => {
  const entry: Seen = { path: new URL(req.url!, "http://x").pathname, opened: Date.now() };
  seen.push(entry);
  res.once("close", () => (entry.closed ??= Date.now()));
  if (entry.path.startsWith("/fast")) res.end(JSON.stringify({ ok: true }));
  // Anything else hangs: no answer, ever.
});
let base = "";

const t = useApiHarness({ names: ["timeouts", "bob"] });
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const rows = (runId: string) =>
  t.sql`SELECT node_name, attempt, status, error->>'type' AS type, duration_ms FROM node_executions
        WHERE run_id = ${runId} ORDER BY node_name, attempt`;

async function runToEnd(nodes: Parameters<typeof buildWorkflow>[2], edges?: [string, string][]) {
  const { workflowId } = await buildWorkflow(t.app, t.alice.token, nodes, edges);
  // Every node runs its attempts to the end: fail_fast would cancel a member when its sibling failed.
  await call(t.app, "PUT", `/api/workflows/${workflowId}`, { token: t.alice.token, body: { on_failure: "continue" } });
  const started = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
    token: t.alice.token,
    body: { input: {} },
  });
  expect(started.status).toBe(202);
  const run = await waitForRun(t.app, t.alice.token, workflowId, started.body.run_id, 60_000);
  return { run, executions: await rows(started.body.run_id) };
}

/** Each request to `path` closed within `timeoutMs` + 500 ms of opening, and before the next one opened. */
function expectClosedInTime(path: string, attempts: number, timeoutMs: number) {
  const mine = seen.filter((s) => s.path === path);
  expect(mine).toHaveLength(attempts);
  for (const [i, s] of mine.entries()) {
    expect(s.closed, `${path} request ${i + 1} never closed`).toBeDefined();
    expect(s.closed! - s.opened, `${path} request ${i + 1}`).toBeLessThanOrEqual(timeoutMs + 500);
    if (i > 0) {
      expect(s.opened, `${path} attempt ${i + 1} began before ${i} closed`).toBeGreaterThanOrEqual(
        mine[i - 1].closed!,
      );
    }
  }
}

describe("timeout_ms", () => {
  it("a lone http_request: every attempt times out at timeout_ms, closed before the next, rows say Timeout", async () => {
    const config = { url: `${base}/lone`, timeout_ms: 800, retry: { max_attempts: 3, initial_interval_ms: 100 } };
    const { run, executions } = await runToEnd([{ name: "hang", config }]);
    expect(run.status).toBe("failed");
    expect(executions.map((e) => [e.attempt, e.status, e.type])).toEqual([
      [1, "failed", "Timeout"],
      [2, "failed", "Timeout"],
      [3, "failed", "Timeout"],
    ]);
    for (const e of executions) expect(e.duration_ms).toBeLessThanOrEqual(800 + 500);
    expectClosedInTime("/lone", 3, 800);
  });

  it("group members time out the same way", async () => {
    const member = (name: string) => ({
      name,
      config: { url: `${base}/${name}`, timeout_ms: 700, retry: { max_attempts: 2, initial_interval_ms: 100 } },
    });
    const { run, executions } = await runToEnd(
      [{ name: "start", config: { url: `${base}/fast` } }, member("m1"), member("m2")],
      [["start", "m1"], ["start", "m2"]],
    );
    expect(run.status).toBe("failed");
    const members = executions.filter((e) => e.node_name !== "start");
    expect(members.map((e) => [e.node_name, e.attempt, e.status, e.type])).toEqual([
      ["m1", 1, "failed", "Timeout"],
      ["m1", 2, "failed", "Timeout"],
      ["m2", 1, "failed", "Timeout"],
      ["m2", 2, "failed", "Timeout"],
    ]);
    expectClosedInTime("/m1", 2, 700);
    expectClosedInTime("/m2", 2, 700);
  });

  it("db_write (its handler takes no abort signal) ends its attempt at timeout_ms too", async () => {
    const config = { sql: "SELECT pg_sleep(5)", timeout_ms: 600, retry: { max_attempts: 1 } };
    const { run, executions } = await runToEnd([{ name: "sleepy", type: "db_write", config }]);
    expect(run.status).toBe("failed");
    expect(executions.map((e) => [e.status, e.type])).toEqual([["failed", "Timeout"]]);
    expect(executions[0].duration_ms).toBeLessThanOrEqual(600 + 500 + 1000);
  });
});
