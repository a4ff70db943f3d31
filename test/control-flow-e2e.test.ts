/**
 * The control-flow pipeline of the README, end to end on the real stack (API, CPU worker, GPU-queue worker with
 * the fixture model): fetch a list, map an llm_call over it four at a time, wait for an event sent through the
 * API, sleep, call a sub-workflow — and a failure after it starts the workflow's error workflow.
 */
import { describe, expect, it } from "vitest";
import { useApiHarness } from "./harness.ts";
import { json, waitForRun } from "./helpers.ts";

const t = useApiHarness({
  gpu: true,
  upstream: (req, _body, res) =>
    req.url === "/topics" ? json(res, 200, ["tides", "glaciers", "deserts", "forests", "reefs"]) : json(res, 500, {}),
});

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never: ${what}`);
}

describe("a control-flow pipeline", () => {
  it(
    "maps a model over a fetched list, waits for an event, sleeps, calls a sub-workflow and reports its failure",
    async () => {
      const token = t.alice.token;
      const publish = await t.buildWorkflow([
        { name: "count", type: "transform", config: { expression: "$count(input.texts)" } },
      ]);
      const notify = await t.buildWorkflow([
        { name: "seen", type: "transform", config: { expression: "input" } },
      ]);
      const { workflowId } = await t.buildWorkflow([
        { name: "fetch", config: { url: `${t.upstream.url}/topics` } },
        {
          name: "summarise",
          type: "map",
          config: {
            items: "{{nodes.fetch.output.body}}",
            concurrency: 4,
            node: { type: "llm_call", config: { prompt: "One sentence about {{item}}.", max_tokens: 8 } },
          },
        },
        { name: "go", type: "wait_for_event", config: { event: "go", timeout_ms: 120_000 } },
        { name: "pause", type: "delay", config: { duration_ms: 500 } },
        {
          name: "publish",
          type: "sub_workflow",
          config: { workflow_id: publish.workflowId, input: { texts: "{{nodes.summarise.output.items.text}}" } },
        },
        { name: "report", config: { url: `${t.upstream.url}/report`, retry: { max_attempts: 1 } } },
      ]);
      const updated = await t.call("PUT", `/api/workflows/${workflowId}`, {
        token,
        body: { error_workflow_id: notify.workflowId },
      });
      expect(updated.status).toBe(200);

      const started = await t.execute(workflowId);
      expect(started.status).toBe(202);
      const runId = started.body.run_id as string;
      const runPath = `/api/workflows/${workflowId}/runs/${runId}`;
      const waiting = await until(
        async () => (await t.call("GET", runPath, { token })).body,
        (run) => run.status === "waiting",
        "the run waits for its event",
      );
      const map = waiting.node_executions.find((e: { node_name: string }) => e.node_name === "summarise");
      expect(map).toMatchObject({ status: "succeeded", items: { total: 5, succeeded: 5, failed: 0, running: 0 } });
      expect(map.output.items.map((i: { text: string }) => typeof i.text)).toEqual(Array(5).fill("string"));
      // The model ran on the GPU queue: one activity for the five items.
      const history = await t.temporal.workflow.getHandle(`weft-run-${runId}`).fetchHistory();
      const queues = (history.events ?? []).flatMap((e) => {
        const s = e.activityTaskScheduledEventAttributes;
        return s?.activityType?.name === "executeMapItems" ? [s.taskQueue?.name] : [];
      });
      expect(queues).toEqual([t.gpu.queue]);

      const sent = await t.call("POST", `${runPath}/signals/go`, { token, body: { data: { by: "editor" } } });
      expect(sent.status).toBe(202);
      const run = await waitForRun(t.app, token, workflowId, runId, 120_000);
      expect(run.status).toBe("failed");
      expect(run.error).toMatchObject({ node: "report" });
      const byName = (name: string) => run.node_executions.find((e: { node_name: string }) => e.node_name === name);
      expect(byName("go").output).toMatchObject({ data: { by: "editor" }, timed_out: false });
      expect(byName("pause").output).toMatchObject({ waited_ms: 500 });
      expect(byName("publish")).toMatchObject({ status: "succeeded", output: { count: 5 } });

      const child = (await t.call("GET", `/api/workflows/${publish.workflowId}/runs`, { token })).body.items;
      expect(child).toMatchObject([{ trigger: "sub_workflow", parent_run_id: runId, parent_node: "publish" }]);
      const errorRuns = await until(
        async () => (await t.call("GET", `/api/workflows/${notify.workflowId}/runs`, { token })).body.items,
        (items: { id: string; status: string }[]) => items.some((r) => r.status === "succeeded"),
        "the error workflow ran",
      );
      expect(errorRuns).toHaveLength(1);
      const errorRun = await waitForRun(t.app, token, notify.workflowId, errorRuns[0].id);
      expect(errorRun.output.seen).toMatchObject({
        run_id: runId,
        workflow_id: workflowId,
        failed_node: "report",
        error: { message: expect.stringContaining("report") },
      });
    },
    300_000,
  );
});
