/**
 * `node --import tsx bench/llm.ts [MODEL=tiny-qwen3] [TOKENS=512] [ROUNDS=7]`: tokens/s through llm_call's code path
 * (activities/llm: chat template, streaming with stop handling, token events written to PostgreSQL) vs the
 * engine's own library called directly on the same model in the same run, rounds alternated; and time to first
 * token on both. The model's files pick the engine: ONNX (raw: the transformers.js text-generation pipeline) or
 * GGUF (raw: node-llama-cpp's LlamaChatSession on its own context). MODEL_DIR, WEFT_MODEL_DEVICE and
 * WEFT_LLM_THREADS apply as in the worker. Results go to bench/results/llm-<MODEL>.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { generateChat } from "../activities/llm/generate.ts";
import { generateChatGguf } from "../activities/llm/gguf-generate.ts";
import { createLlmCall } from "../activities/llm/index.ts";
import { modelConfigFromEnv } from "../activities/models/config.ts";
import { ModelRegistry } from "../activities/models/registry.ts";
import { benchDatabase, benchUser, median } from "./ai-db.ts";

const MODEL = process.argv[2] ?? "tiny-qwen3";
const TOKENS = Number(process.argv[3] ?? 512);
const ROUNDS = Number(process.argv[4] ?? 7);
const PROMPT = "Tell me a long story.";
const messages = [{ role: "user" as const, content: PROMPT }];

interface Raw {
  /** One generation through the library alone: [tokens, ms to the first text]. */
  generate(): Promise<[number, number]>;
}

const loads: Record<string, unknown>[] = [];
const models = new ModelRegistry(modelConfigFromEnv(process.env), (msg, fields) => loads.push({ msg, ...fields }));
const lm = await models.chatModel(MODEL);

/** The library on its own, as a user of it would call it (no Weft code in the loop). */
async function rawEngine(): Promise<Raw> {
  if (lm.engine === "gguf") {
    const context = await lm.model.createContext({ contextSize: 4096, threads: lm.threads });
    const sequence = context.getSequence();
    return {
      async generate() {
        // The clock starts before the session is made, as it does for llm_call; the chat template is resolved once,
        // as a careful user of the library would (resolving it per session costs ~1.5 s here).
        const t0 = performance.now();
        const session = new lm.lib.LlamaChatSession({
          contextSequence: sequence,
          chatWrapper: lm.chatWrapper,
          autoDisposeSequence: false,
        });
        session.setChatHistory([]); // the same prompt llm_call sends: no default system prompt
        const before = sequence.tokenMeter.getState();
        let first = 0;
        await session.promptWithMeta(PROMPT, {
          maxTokens: TOKENS,
          temperature: 0,
          onTextChunk: () => (first ||= performance.now() - t0),
        });
        session.dispose({ disposeSequence: false });
        await sequence.clearHistory();
        return [sequence.tokenMeter.diff(before).usedOutputTokens, first];
      },
    };
  }
  const pipe = await lm.lib.pipeline("text-generation", MODEL, { device: lm.device, dtype: models.config.dtype });
  return {
    async generate() {
      const t0 = performance.now();
      let first = 0;
      let tokens = -1; // the streamer's first call is the prompt
      const streamer = {
        put: () => {
          if (++tokens === 1) first = performance.now() - t0;
        },
        end: () => {},
      };
      // deno-lint-ignore no-explicit-any
      await (pipe as any)(messages, { max_new_tokens: TOKENS, do_sample: false, streamer });
      return [tokens, first];
    },
  };
}

const db = await benchDatabase();
const { sql } = db;
try {
  // A run row for the token events to belong to.
  const owner = await benchUser(sql);
  const [wf] = await sql`INSERT INTO workflows (owner_id, name) VALUES (${owner}, 'bench') RETURNING id`;
  const [run] = await sql`INSERT INTO workflow_runs (workflow_id, owner_id, snapshot, version_hash, workflow_version,
    temporal_workflow_id) VALUES (${wf.id}, ${owner}, '{}', 'x', 1, 'bench') RETURNING id`;
  const llmCall = createLlmCall(sql, models);
  const raw = await rawEngine();
  const signal = new AbortController().signal;

  const weft: number[] = [];
  const rawRates: number[] = [];
  const weftTtft: number[] = [];
  const rawTtft: number[] = [];
  let generated = 0;
  const runWeft = async (attempt: number) => {
    const t0 = performance.now();
    const out = await llmCall({ prompt: PROMPT, model: MODEL, max_tokens: TOKENS, temperature: 0 }, signal, {
      runId: run.id as string,
      nodeName: "bench",
      attempt,
    });
    weft.push(out.usage.completion_tokens / ((performance.now() - t0) / 1000));
    generated = out.usage.completion_tokens;
  };
  const runRaw = async () => {
    const t0 = performance.now();
    const [tokens, first] = await raw.generate();
    rawRates.push(tokens / ((performance.now() - t0) / 1000));
    rawTtft.push(first);
  };
  // Time to first token through Weft's engine code (text handed over at once, no stream interval).
  const ttftWeft = async () => {
    const t0 = performance.now();
    let first = 0;
    const onText = () => (first ||= performance.now() - t0);
    const request = { messages, temperature: 0, max_tokens: 8 };
    await (lm.engine === "gguf" ? generateChatGguf(lm, request, { onText }) : generateChat(lm, request, { onText }));
    weftTtft.push(first);
  };
  await runWeft(0); // warm-up
  await runRaw();
  await ttftWeft();
  weft.length =
    rawRates.length =
    rawTtft.length =
    weftTtft.length =
      0;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [runWeft, runRaw, ttftWeft] : [runRaw, ttftWeft, runWeft];
    for (const step of order) await step(round + 1);
  }
  const [{ events }] = await sql`SELECT count(*)::int AS events FROM run_events WHERE run_id = ${run.id}
    AND type = 'token'`;

  const result = {
    date: new Date().toISOString(),
    model: MODEL,
    engine: lm.engine,
    device: lm.device,
    ...(lm.engine === "gguf" ? { threads: lm.threads } : {}),
    tokens_per_generation: generated,
    rounds: ROUNDS,
    llm_call_tokens_per_s: median(weft),
    raw_library_tokens_per_s: median(rawRates),
    ratio: median(weft) / median(rawRates),
    ttft_ms: { weft: median(weftTtft), raw: median(rawTtft) },
    token_events_written: events,
    loads,
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync("bench/results", { recursive: true });
  writeFileSync(`bench/results/llm-${MODEL}.json`, JSON.stringify({ ...result, weft, rawRates }, null, 2));
} finally {
  await db.close();
}
