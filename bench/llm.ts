/**
 * `node --import tsx bench/llm.ts [MODEL=tiny-qwen3] [TOKENS=512] [ROUNDS=7]`: tokens/s through llm_call's code path
 * (activities/llm: chat template, streaming with stop handling, token events written to PostgreSQL) vs the raw
 * transformers.js text-generation pipeline on the same model in the same run, rounds alternated; and embedding
 * sentences/s at batch 1 vs batch 32. MODEL_DIR and WEFT_MODEL_DEVICE apply as in the worker.
 */
import { writeFileSync } from "node:fs";
import { createLlmCall } from "../activities/llm/index.ts";
import { generateChat } from "../activities/llm/generate.ts";
import { modelConfigFromEnv } from "../activities/models/config.ts";
import { ModelRegistry } from "../activities/models/registry.ts";
import { benchDatabase, benchUser, median } from "./ai-db.ts";

const MODEL = process.argv[2] ?? "tiny-qwen3";
const TOKENS = Number(process.argv[3] ?? 512);
const ROUNDS = Number(process.argv[4] ?? 7);
const PROMPT = "Tell me a long story.";

const loads: Record<string, unknown>[] = [];
const models = new ModelRegistry(modelConfigFromEnv(process.env), (msg, fields) => loads.push({ msg, ...fields }));
const db = await benchDatabase();
const { sql } = db;
try {
  // A run row for the token events to belong to.
  const owner = await benchUser(sql);
  const [wf] = await sql`INSERT INTO workflows (owner_id, name) VALUES (${owner}, 'bench') RETURNING id`;
  const [run] = await sql`INSERT INTO workflow_runs (workflow_id, owner_id, snapshot, version_hash, workflow_version,
    temporal_workflow_id) VALUES (${wf.id}, ${owner}, '{}', 'x', 1, 'bench') RETURNING id`;

  const lm = await models.languageModel(MODEL);
  const llmCall = createLlmCall(sql, models);
  const lib = lm.lib;
  const device = lm.device;
  const pipe = await lib.pipeline("text-generation", MODEL, { device, dtype: models.config.dtype });
  const messages = [{ role: "user", content: PROMPT }];
  const signal = new AbortController().signal;

  const weft: number[] = [];
  const noEvents: number[] = [];
  const raw: number[] = [];
  let generated = 0;
  const runWeft = async (attempt: number) => {
    const t0 = performance.now();
    const out = await llmCall({ prompt: PROMPT, max_tokens: TOKENS, temperature: 0 }, signal, {
      runId: run.id as string,
      nodeName: "bench",
      attempt,
    });
    weft.push(out.usage.completion_tokens / ((performance.now() - t0) / 1000));
    generated = out.usage.completion_tokens;
  };
  const runNoEvents = async () => {
    const t0 = performance.now();
    const out = await generateChat(lm, {
      messages: [{ role: "user", content: PROMPT }],
      temperature: 0,
      max_tokens: TOKENS,
    });
    noEvents.push(out.completion_tokens / ((performance.now() - t0) / 1000));
  };
  const runRaw = async () => {
    const t0 = performance.now();
    // deno-lint-ignore no-explicit-any
    await (pipe as any)(messages, { max_new_tokens: TOKENS, do_sample: false });
    raw.push(generated / ((performance.now() - t0) / 1000));
  };
  await runWeft(0); // warm-up, and the token count the raw pipeline also produces (same greedy output)
  await runRaw();
  weft.length = 0;
  raw.length = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [runWeft, runRaw, runNoEvents] : [runRaw, runNoEvents, runWeft];
    for (const step of order) await step(round + 1);
  }
  const [{ events }] = await sql`SELECT count(*)::int AS events FROM run_events WHERE run_id = ${run.id}
    AND type = 'token'`;

  // Embeddings: the same 256 sentences one at a time and in batches of 32.
  const embedder = await models.embedder();
  const sentences = Array.from({ length: 256 }, (_, i) => `Sentence number ${i} about the weather in Paris.`);
  const one: number[] = [];
  const batched: number[] = [];
  for (let round = 0; round < 3; round++) {
    let t0 = performance.now();
    for (const s of sentences) await embedder.embed([s]);
    one.push(sentences.length / ((performance.now() - t0) / 1000));
    t0 = performance.now();
    for (let i = 0; i < sentences.length; i += 32) await embedder.embed(sentences.slice(i, i + 32));
    batched.push(sentences.length / ((performance.now() - t0) / 1000));
  }

  const result = {
    date: new Date().toISOString(),
    model: MODEL,
    device,
    tokens_per_generation: generated,
    rounds: ROUNDS,
    llm_call_tokens_per_s: median(weft),
    generate_without_events_tokens_per_s: median(noEvents),
    raw_pipeline_tokens_per_s: median(raw),
    ratio: median(weft) / median(raw),
    token_events_written: events,
    embedding: {
      model: embedder.name,
      device: embedder.device,
      batch1_per_s: median(one),
      batch32_per_s: median(batched),
    },
    loads,
  };
  console.log(JSON.stringify(result, null, 2));
  writeFileSync("bench/results/llm.json", JSON.stringify({ ...result, weft, noEvents, raw, one, batched }, null, 2));
} finally {
  await db.close();
}
