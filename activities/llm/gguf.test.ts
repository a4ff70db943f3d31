/**
 * The GGUF engine (node-llama-cpp) on the real SmolLM2-135M-Instruct that setup installs: an answer is
 * well-formed English (not exact words: that is what the tiny Qwen fixtures are for), and the llm_call contract
 * holds as on the ONNX engine — max_tokens, stop strings never streamed, seeded sampling, cancellation within
 * about a second, usage and tokens/s, token events in PostgreSQL. The model loads once for the file.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Sql } from "../../db/client.ts";
import { TEST_DATABASE_URL } from "../../test/env.ts";
import { INSTALLED_MODELS_DIR, modelConfigFromEnv, REAL_LLM_MODEL } from "../models/config.ts";
import type { GgufModel } from "../models/gguf.ts";
import { ModelRegistry } from "../models/registry.ts";
import { generateChatGguf } from "./gguf-generate.ts";
import { createLlmCall } from "./index.ts";

const logs: Record<string, unknown>[] = [];
// One thread: on a CI runner or a shared machine, llama.cpp's spinning threads collapse when cores are busy.
const models = new ModelRegistry(
  modelConfigFromEnv({ MODEL_DIR: INSTALLED_MODELS_DIR, WEFT_LLM_MODEL: REAL_LLM_MODEL, WEFT_LLM_THREADS: "1" }),
  (msg, fields) => logs.push({ msg, ...fields }),
);
let lm: GgufModel;
let sql: Sql;
let owner: string;
const ask = (content: string) => [{ role: "user" as const, content }];

beforeAll(async () => {
  const loaded = await models.chatModel();
  if (loaded.engine !== "gguf") throw new Error("SmolLM2 should load on the GGUF engine");
  lm = loaded;
  sql = connect(TEST_DATABASE_URL, { max: 2 });
  [{ id: owner }] = await sql`INSERT INTO users (email, password_hash) VALUES (${`gguf-${randomUUID()}@x.test`}, 'x')
    RETURNING id`;
});

afterAll(async () => {
  await sql`DELETE FROM users WHERE id = ${owner}`;
  await sql.end();
});

describe("SmolLM2-135M-Instruct on the GGUF engine", () => {
  it("loads on the engine its file calls for and logs the device it runs on", () => {
    expect(lm.device).toBe("cpu");
    expect(logs).toContainEqual(expect.objectContaining({ msg: "model loaded", engine: "gguf", device: "cpu" }));
  });

  it("answers a chat prompt in well-formed English sentences, streamed", async () => {
    const pieces: string[] = [];
    const result = await generateChatGguf(lm, {
      messages: [
        { role: "system", content: "You are a helpful assistant. Answer in one or two short sentences." },
        { role: "user", content: "Why do people carry umbrellas when it rains?" },
      ],
      temperature: 0,
      max_tokens: 48,
    }, { onText: (t) => pieces.push(t) });
    const words = result.text.trim().split(/\s+/);
    expect(words.length).toBeGreaterThanOrEqual(5);
    // Mostly dictionary-shaped words, a capital first letter, no replacement characters or markup tokens.
    const wordLike = words.filter((w) => /^[A-Za-z][a-z'-]*[.,;:!?]?$/.test(w)).length;
    expect(wordLike / words.length).toBeGreaterThan(0.8);
    expect(result.text.trim()).toMatch(/^[A-Z]/);
    expect(result.text).not.toMatch(/\ufffd|<\|im_(start|end)\|>/);
    expect(pieces.join("")).toBe(result.text);
    expect(result.prompt_tokens).toBeGreaterThan(10);
    expect(result.completion_tokens).toBeGreaterThan(3);
    if (result.finish_reason === "stop") expect(result.text.trim()).toMatch(/[.!?]$/);
  });

  it("is greedy at temperature 0 (the same answer twice) and reproducible by seed when sampling", async () => {
    const messages = ask("Name a colour.");
    const greedy = await Promise.all(
      [0, 1].map(() => generateChatGguf(lm, { messages, temperature: 0, max_tokens: 8 })),
    );
    expect(greedy[0].text).toBe(greedy[1].text);
    const sampled = [];
    for (const seed of [7, 7]) {
      sampled.push(await generateChatGguf(lm, { messages, temperature: 1, top_p: 0.95, seed, max_tokens: 8 }));
    }
    expect(sampled[0].text).toBe(sampled[1].text);
  });

  it("stops at max_tokens with finish_reason length, and at a stop string without streaming it", async () => {
    const long = await generateChatGguf(lm, { messages: ask("Tell me a long story."), temperature: 0, max_tokens: 6 });
    expect(long).toMatchObject({ finish_reason: "length", completion_tokens: 6 });
    const full = await generateChatGguf(lm, {
      messages: ask("Count from one to ten in words."),
      temperature: 0,
      max_tokens: 24,
    });
    const stop = full.text.trim().split(/\s+/)[2];
    const pieces: string[] = [];
    const stopped = await generateChatGguf(lm, {
      messages: ask("Count from one to ten in words."),
      temperature: 0,
      max_tokens: 24,
      stop: [stop],
    }, { onText: (t) => pieces.push(t) });
    expect(stopped.finish_reason).toBe("stop");
    expect(stopped.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
    expect(pieces.join("")).toBe(stopped.text);
  });

  it("stops within a second of cancellation and stays usable", async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    const generation = generateChatGguf(lm, {
      messages: ask("Write a long essay about rivers."),
      temperature: 0,
      max_tokens: 2000,
    }, {
      signal: controller.signal,
      onText: () => {
        if (!abortedAt) {
          abortedAt = performance.now();
          controller.abort(new Error("cancelled by the test"));
        }
      },
    });
    await expect(generation).rejects.toThrow("cancelled by the test");
    expect(performance.now() - abortedAt).toBeLessThan(1000);
    const after = await generateChatGguf(lm, { messages: ask("Say hello."), temperature: 0, max_tokens: 4 });
    expect(after.completion_tokens).toBeGreaterThan(0);
  });

  it("runs at most `parallel` generations at once; a waiting one can be cancelled before it starts", async () => {
    const running = new AbortController();
    const started: number[] = [];
    const busy = Array.from(
      { length: lm.parallel },
      (_, i) =>
        generateChatGguf(
          lm,
          { messages: ask("Write a long essay about mountains."), temperature: 0, max_tokens: 2000 },
          {
            signal: running.signal,
            onText: () => (started[i] ??= performance.now()),
          },
        ).catch((err) => err),
    );
    while (started.filter(Boolean).length < lm.parallel) await new Promise((r) => setTimeout(r, 50));
    const waiting = new AbortController();
    let waitingStarted = false;
    const queued = generateChatGguf(lm, { messages: ask("Say hi."), temperature: 0, max_tokens: 4 }, {
      signal: waiting.signal,
      onText: () => (waitingStarted = true),
    });
    await new Promise((r) => setTimeout(r, 300));
    waiting.abort(new Error("gave up waiting"));
    await expect(queued).rejects.toThrow("gave up waiting");
    expect(waitingStarted).toBe(false);
    running.abort(new Error("done"));
    for (const result of await Promise.all(busy)) expect(result).toBeInstanceOf(Error);
    // Every slot came back: a new generation runs.
    const after = await generateChatGguf(lm, { messages: ask("Say hello."), temperature: 0, max_tokens: 2 });
    expect(after.completion_tokens).toBeGreaterThan(0);
  });

  it("runs as an llm_call node: usage, tokens/s and token events for the run; unknown or escaping model names fail", async () => {
    const [{ id: workflowId }] =
      await sql`INSERT INTO workflows (owner_id, name) VALUES (${owner}, 'gguf') RETURNING id`;
    const [{ id: runId }] = await sql`INSERT INTO workflow_runs (workflow_id, owner_id, status, snapshot, version_hash,
      workflow_version, temporal_workflow_id) VALUES (${workflowId}, ${owner}, 'running', '{}', 'h', 1, ${randomUUID()})
      RETURNING id`;
    const llmCall = createLlmCall(sql, models);
    const out = await llmCall(
      { prompt: "What is rain?", system: "Answer in one sentence.", max_tokens: 32 },
      new AbortController().signal,
      { runId, nodeName: "brief", attempt: 1 },
    );
    expect(out.model).toBe(REAL_LLM_MODEL);
    expect(out.usage.total_tokens).toBe(out.usage.prompt_tokens + out.usage.completion_tokens);
    expect(out.tokens_per_s).toBeGreaterThan(0);
    const events = await sql`SELECT data FROM run_events WHERE run_id = ${runId} AND type = 'token' ORDER BY id`;
    expect(events.map((e) => e.data.text).join("")).toBe(out.text);
    await expect(llmCall({ prompt: "x", model: "no-such-model" }, new AbortController().signal, {
      runId,
      nodeName: "brief",
      attempt: 1,
    })).rejects.toMatchObject({ type: "ModelNotFound", nonRetryable: true });
    // A model name cannot leave MODEL_DIR: no path separators are accepted at all.
    for (const model of ["../models/tiny-qwen3", "/etc/passwd", "SmolLM2-135M-Instruct/../../x"]) {
      await expect(
        llmCall({ prompt: "x", model }, new AbortController().signal, { runId, nodeName: "brief", attempt: 1 }),
      )
        .rejects.toMatchObject({ type: "InvalidConfig", nonRetryable: true });
    }
  });
});
