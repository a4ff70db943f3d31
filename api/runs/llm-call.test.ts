/**
 * llm_call through real runs: a GPU-queue worker with the fixture Qwen3 model, PyTorch's expected greedy output,
 * token usage in the run API, streamed token events and cancellation mid-generation.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readRunEvents } from "../../db/run-events.ts";
import { buildWorkflow, call, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";

const expected = JSON.parse(readFileSync("models/tiny-qwen3/expected.json", "utf8")).greedy as {
  messages: { role: string; content: string }[];
  input_ids: number[];
  max_new_tokens: number;
  generated_ids: number[];
  generated_text: string;
}[];

const t = useApiHarness({ gpu: true });

async function execute(nodes: Parameters<typeof buildWorkflow>[2], input: Record<string, unknown> = {}) {
  const { workflowId } = await buildWorkflow(t.app, t.alice.token, nodes);
  const started = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
    token: t.alice.token,
    body: { input },
  });
  expect(started.status).toBe(202);
  return { workflowId, runId: started.body.run_id as string };
}

async function tokenEvents(runId: string) {
  const events = await readRunEvents(t.sql, runId, "0", 10_000);
  return events.filter((e) => e.type === "token").map((e) =>
    e.data as {
      node_name: string;
      attempt: number;
      seq: number;
      text: string;
    }
  );
}

describe("llm_call", () => {
  it("generates through the real pipeline: chat template, PyTorch's greedy text, usage, streamed tokens", async () => {
    const [plain, withSystem] = expected;
    const { workflowId, runId } = await execute([
      { name: "ask", type: "llm_call", config: { prompt: "{{input.question}}", max_tokens: plain.max_new_tokens } },
      {
        name: "chat",
        type: "llm_call",
        config: {
          system: withSystem.messages[0].content,
          prompt: withSystem.messages[1].content,
          temperature: 0,
          max_tokens: withSystem.max_new_tokens,
        },
      },
    ], { question: plain.messages[0].content });
    const run = await waitForRun(t.app, t.alice.token, workflowId, runId);
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded");
    const [ask, chat] = ["ask", "chat"].map((n) =>
      run.node_executions.find((e: { node_name: string }) => e.node_name === n)
    );
    expect(ask.input.prompt).toBe(plain.messages[0].content);
    for (const [execution, want] of [[ask, plain], [chat, withSystem]] as const) {
      expect(execution.output).toMatchObject({
        text: want.generated_text,
        model: "tiny-qwen3",
        finish_reason: "length",
        usage: {
          // The templated prompt's length: the chat template was applied.
          prompt_tokens: want.input_ids.length,
          completion_tokens: want.generated_ids.length,
          total_tokens: want.input_ids.length + want.generated_ids.length,
        },
      });
      expect(execution.output.tokens_per_s).toBeGreaterThan(0);
      expect(execution.output.duration_ms).toBeGreaterThanOrEqual(0);
    }
    expect(run.usage).toEqual({
      prompt_tokens: plain.input_ids.length + withSystem.input_ids.length,
      completion_tokens: plain.generated_ids.length + withSystem.generated_ids.length,
      total_tokens: plain.input_ids.length + withSystem.input_ids.length + plain.generated_ids.length +
        withSystem.generated_ids.length,
    });

    // Streamed in order: per node, seq 0..n-1 without gaps, joined equal to the output's text.
    const tokens = await tokenEvents(runId);
    for (const execution of [ask, chat]) {
      const mine = tokens.filter((e) => e.node_name === execution.node_name);
      expect(mine.map((e) => e.seq)).toEqual(mine.map((_, i) => i));
      expect(mine.every((e) => e.attempt === 1)).toBe(true);
      expect(mine.map((e) => e.text).join("")).toBe(execution.output.text);
    }
    // Both llm_call activities were scheduled on the GPU queue the API was configured with.
    const history = await t.temporal.workflow.getHandle(`weft-run-${runId}`).fetchHistory();
    const queues = (history.events ?? []).flatMap((e) => {
      const scheduled = e.activityTaskScheduledEventAttributes;
      return scheduled?.activityType?.name === "executeNode" ? [[scheduled.activityId, scheduled.taskQueue?.name]] : [];
    });
    expect(queues.sort()).toEqual([["ask", t.gpu.queue], ["chat", t.gpu.queue]]);
    // The worker said where the model runs.
    expect(t.gpu.process().output()).toMatch(/"msg":"model loaded".*"kind":"llm","model":"tiny-qwen3","device":"cpu"/);
  });

  it("is deterministic at temperature 0 and honours stop strings", async () => {
    const stop = expected[0].generated_text.slice(6, 9);
    const { workflowId, runId } = await execute([
      { name: "a", type: "llm_call", config: { prompt: expected[0].messages[0].content, max_tokens: 24 } },
      {
        name: "b",
        type: "llm_call",
        config: { prompt: expected[0].messages[0].content, max_tokens: 24, stop: [stop] },
      },
    ]);
    const run = await waitForRun(t.app, t.alice.token, workflowId, runId);
    const [a, b] = run.node_executions.map((e: { output: { text: string; finish_reason: string } }) => e.output);
    expect(a.text).toBe(expected[0].generated_text);
    expect(b).toMatchObject({ text: a.text.slice(0, a.text.indexOf(stop)), finish_reason: "stop" });
  });

  it("stores and streams any text the model emits, U+0000 included (PostgreSQL JSON cannot hold it)", async () => {
    // This greedy generation emits a NUL byte near character 148.
    const { workflowId, runId } = await execute([
      { name: "long", type: "llm_call", config: { prompt: "Tell me a long story.", max_tokens: 256 } },
    ]);
    const run = await waitForRun(t.app, t.alice.token, workflowId, runId);
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded");
    const { text } = run.node_executions[0].output;
    expect(text).toContain("\ufffd");
    expect(text).not.toContain("\u0000");
    const tokens = await tokenEvents(runId);
    expect(tokens.map((e) => e.seq)).toEqual(tokens.map((_, i) => i));
    expect(tokens.map((e) => e.text).join("")).toBe(text);
  });

  it("stops generating promptly when the run is cancelled", async () => {
    const { workflowId, runId } = await execute([
      {
        name: "story",
        type: "llm_call",
        config: { prompt: "Tell me a long story.", max_tokens: 4000, timeout_ms: 120_000 },
      },
    ]);
    const deadline = Date.now() + 20_000;
    while ((await tokenEvents(runId)).length < 5) {
      if (Date.now() > deadline) throw new Error("no tokens streamed");
      await new Promise((r) => setTimeout(r, 20));
    }
    const cancelledAt = Date.now();
    const cancel = await call(t.app, "POST", `/api/workflows/${workflowId}/runs/${runId}/cancel`, {
      token: t.alice.token,
    });
    expect(cancel.status).toBe(202);
    const run = await waitForRun(t.app, t.alice.token, workflowId, runId);
    expect(run.status).toBe("cancelled");
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);
    expect(run.node_executions[0].status).toBe("cancelled");
    const streamed = (await tokenEvents(runId)).length;
    await new Promise((r) => setTimeout(r, 1_000));
    // Nothing more was generated after the run ended.
    expect((await tokenEvents(runId)).length).toBe(streamed);
    expect(run.usage.total_tokens).toBe(0);
  });

  it("fails without retrying when the model is not in MODEL_DIR, and validates config when saved", async () => {
    const { workflowId, runId } = await execute([
      { name: "x", type: "llm_call", config: { prompt: "hi", model: "no-such-model", retry: { max_attempts: 3 } } },
    ]);
    const run = await waitForRun(t.app, t.alice.token, workflowId, runId);
    expect(run.status).toBe("failed");
    expect(run.node_executions).toHaveLength(1);
    expect(run.node_executions[0].error).toMatchObject({ type: "ModelNotFound", retryable: false });

    const wf = await call(t.app, "POST", "/api/workflows", { token: t.alice.token, body: { name: "bad" } });
    for (
      const config of [{}, { prompt: "x", temperature: 3 }, { prompt: "x", model: "../etc" }, { prompt: "x", y: 1 }]
    ) {
      const res = await call(t.app, "POST", `/api/workflows/${wf.body.id}/nodes`, {
        token: t.alice.token,
        body: { name: "n", type: "llm_call", config },
      });
      expect(res.status, JSON.stringify(config)).toBe(400);
    }
  });
});
