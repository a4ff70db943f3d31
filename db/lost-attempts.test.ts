/** Attempts lost with their worker get a row when the next attempt begins (real PostgreSQL, a real run row). */
import { beforeAll, describe, expect, it } from "vitest";
import { buildWorkflow, call } from "../test/helpers.ts";
import { useApiHarness } from "../test/harness.ts";
import { recordLostAttempts } from "./lost-attempts.ts";

let runId: string;
const node = { id: crypto.randomUUID(), name: "ghost", type: "http_request" };

const t = useApiHarness({ names: ["lost", "bob"] });
beforeAll(async () => {
  const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{
    name: "a",
    config: { url: "http://127.0.0.1:9/" },
  }]);
  const res = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
    token: t.alice.token,
    body: { input: {} },
  });
  runId = res.body.run_id;
});

const rows = () =>
  t.sql`SELECT attempt, status, error->>'type' AS type FROM node_executions
        WHERE run_id = ${runId} AND node_id = ${node.id} ORDER BY attempt`;

describe("recordLostAttempts", () => {
  it("closes attempts still running and fills in attempts that never got a row, each as failed AttemptLost", async () => {
    // Attempt 2 got its row and died running; attempts 1 and 3 died before writing theirs.
    await t.sql`INSERT INTO node_executions (run_id, node_id, node_name, type, status, attempt)
                VALUES (${runId}, ${node.id}, ${node.name}, ${node.type}, 'running', 2)`;
    await recordLostAttempts(t.sql, runId, node, 4);
    expect(await rows()).toEqual([
      { attempt: 1, status: "failed", type: "AttemptLost" },
      { attempt: 2, status: "failed", type: "AttemptLost" },
      { attempt: 3, status: "failed", type: "AttemptLost" },
    ]);
    // Repeating it (the attempt itself retried) changes nothing.
    await recordLostAttempts(t.sql, runId, node, 4);
    expect(await rows()).toHaveLength(3);
  });
});
