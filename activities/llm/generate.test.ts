/** Chat generation on the real fixture models (ONNX through transformers.js) against PyTorch's own outputs. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { modelConfigFromEnv } from "../models/config.ts";
import { ModelRegistry } from "../models/registry.ts";
import { generateChat } from "./generate.ts";

interface GreedyCase {
  messages: { role: "system" | "user"; content: string }[];
  templated: string;
  input_ids: number[];
  max_new_tokens: number;
  generated_ids: number[];
  generated_text: string;
}

const logs: Record<string, unknown>[] = [];
const models = new ModelRegistry(modelConfigFromEnv({}), (msg, fields) => logs.push({ msg, ...fields }));
const expected = (name: string): GreedyCase[] =>
  JSON.parse(readFileSync(`models/${name}/expected.json`, "utf8")).greedy;

describe.each(["tiny-qwen3", "tiny-qwen2"])("%s", (name) => {
  it("applies the chat template and reproduces PyTorch's greedy output token for token", async () => {
    const lm = await models.languageModel(name);
    for (const c of expected(name)) {
      expect(lm.tokenizer.apply_chat_template(c.messages, { tokenize: false, add_generation_prompt: true }))
        .toBe(c.templated);
      const pieces: string[] = [];
      const result = await generateChat(lm, { messages: c.messages, temperature: 0, max_tokens: c.max_new_tokens }, {
        onText: (t) => pieces.push(t),
      });
      expect(result.text).toBe(c.generated_text);
      expect(result.prompt_tokens).toBe(c.input_ids.length);
      expect(result.completion_tokens).toBe(c.generated_ids.length);
      expect(result.finish_reason).toBe("length");
      expect(pieces.join("")).toBe(result.text);
      expect(pieces.length).toBeGreaterThan(1);
    }
  });
});

describe("generation options", () => {
  const [first] = expected("tiny-qwen3");

  it("stops at a stop string, without streaming any of it", async () => {
    const lm = await models.languageModel();
    const stop = first.generated_text.slice(6, 9);
    const pieces: string[] = [];
    const result = await generateChat(lm, { messages: first.messages, temperature: 0, max_tokens: 24, stop: [stop] }, {
      onText: (t) => pieces.push(t),
    });
    expect(result.finish_reason).toBe("stop");
    expect(result.text).toBe(first.generated_text.slice(0, first.generated_text.indexOf(stop)));
    expect(pieces.join("")).toBe(result.text);
  });

  it("hands text over at most once per stream interval, decoding only then", async () => {
    const lm = await models.languageModel();
    const pieces: string[] = [];
    const result = await generateChat(lm, { messages: first.messages, temperature: 0, max_tokens: 24 }, {
      onText: (t) => pieces.push(t),
      streamIntervalMs: 60_000,
    });
    expect(result.text).toBe(first.generated_text);
    // The first token's text at once, then everything else when generation ends.
    expect(pieces.length).toBeLessThanOrEqual(2);
    expect(pieces.join("")).toBe(result.text);
  });

  it("samples reproducibly with a seed at temperature > 0", async () => {
    const lm = await models.languageModel();
    const run = (seed: number) =>
      generateChat(lm, { messages: first.messages, temperature: 0.9, top_p: 0.95, max_tokens: 16, seed });
    const [a, b, c] = [await run(1), await run(1), await run(2)];
    expect(a.text).toBe(b.text);
    expect(a.text).not.toBe(c.text);
  });

  it("stops generating as soon as its signal is aborted", async () => {
    const lm = await models.languageModel();
    const abort = new AbortController();
    let pieces = 0;
    const generation = generateChat(
      lm,
      { messages: [{ role: "user", content: "Tell me a long story." }], temperature: 0, max_tokens: 3000 },
      {
        signal: abort.signal,
        onText: () => {
          if (++pieces === 5) abort.abort(new Error("run cancelled"));
        },
      },
    );
    await expect(generation).rejects.toThrow("run cancelled");
    expect(pieces).toBe(5);
  });
});

describe("model registry", () => {
  it("loads each model once under concurrent first use, says on which device, and retries a failed load", async () => {
    const fresh = new ModelRegistry(modelConfigFromEnv({}), (msg, fields) => logs.push({ msg, ...fields }));
    const before = logs.length;
    const loaded = await Promise.all(Array.from({ length: 5 }, () => fresh.embedder()));
    expect(new Set(loaded).size).toBe(1);
    const said = logs.slice(before).filter((l) => l.msg === "model loaded");
    expect(said).toEqual([expect.objectContaining({ kind: "embedding", model: "tiny-bert-encoder", device: "cpu" })]);
    await expect(fresh.languageModel("no-such-model")).rejects.toThrow();
    await expect(fresh.languageModel("no-such-model")).rejects.toThrow();
  });

  it("embeds with mean pooling and L2 normalisation, matching PyTorch", async () => {
    const embedder = await models.embedder();
    const { sentences, embeddings } = JSON.parse(readFileSync("models/tiny-bert-encoder/expected.json", "utf8"));
    const got = await embedder.embed(sentences);
    expect(embedder.dimension).toBe(32);
    for (let i = 0; i < sentences.length; i++) {
      const row = got.subarray(i * 32, (i + 1) * 32);
      expect(Math.hypot(...row)).toBeCloseTo(1, 5);
      row.forEach((x, j) => expect(x).toBeCloseTo(embeddings[i][j], 5));
    }
    // Batch size does not change a sentence's embedding.
    const alone = await embedder.embed([sentences[2]]);
    alone.forEach((x, j) => expect(x).toBeCloseTo(got[2 * 32 + j], 5));
  });
});
