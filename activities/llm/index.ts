/** The llm_call node: a chat completion on the GPU queue's language model, its text streamed as it is made. */
import { llmCallConfigSchema } from "../../core/node-types.ts";
import type { Sql } from "../../db/client.ts";
import { nonRetryable } from "../errors.ts";
import { resolveChatModel } from "../models/gguf.ts";
import type { ModelRegistry } from "../models/registry.ts";
import { type ChatMessage, generateChat } from "./generate.ts";
import { generateChatGguf } from "./gguf-generate.ts";
import { STREAM_INTERVAL_MS, tokenStream } from "./token-events.ts";
import { llmTokens } from "../metrics.ts";

export interface NodeMeta {
  runId: string;
  nodeName: string;
  attempt: number;
}

export interface LlmCallOutput {
  text: string;
  model: string;
  finish_reason: "stop" | "length";
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  duration_ms: number;
  tokens_per_s: number;
}

/** PostgreSQL's JSON cannot hold U+0000; a model that emits it gets U+FFFD instead, in the stream and the output. */
const storable = (text: string) => text.replaceAll("\u0000", "\ufffd");

const asText = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value ?? null));

export function createLlmCall(sql: Sql, models: ModelRegistry) {
  return async function llmCall(
    prepared: Record<string, unknown>,
    signal: AbortSignal,
    meta: NodeMeta,
  ): Promise<LlmCallOutput> {
    // Templates may have turned prompt or system into other JSON: the model reads text.
    const rendered: Record<string, unknown> = { ...prepared, prompt: asText(prepared.prompt) };
    if (prepared.system !== undefined) rendered.system = asText(prepared.system);
    const parsed = llmCallConfigSchema.safeParse(rendered);
    if (!parsed.success) {
      throw nonRetryable(
        "InvalidConfig",
        parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
      );
    }
    const config = parsed.data;
    const name = config.model ?? models.config.llmModel;
    if (!resolveChatModel(models.config.modelDir, name)) {
      throw nonRetryable("ModelNotFound", `no model "${name}" in the worker's MODEL_DIR`);
    }
    const lm = await models.chatModel(name);
    const messages: ChatMessage[] = [];
    if (config.system) messages.push({ role: "system", content: config.system });
    messages.push({ role: "user", content: config.prompt });

    const stream = tokenStream(sql, meta.runId, meta.nodeName, meta.attempt);
    const started = performance.now();
    const request = {
      messages,
      temperature: config.temperature,
      max_tokens: config.max_tokens,
      top_p: config.top_p,
      stop: config.stop,
      seed: config.seed,
    };
    const options = {
      signal,
      onText: (text: string) => stream.push(storable(text)),
      streamIntervalMs: STREAM_INTERVAL_MS,
    };
    const result = lm.engine === "gguf"
      ? await generateChatGguf(lm, request, options)
      : await generateChat(lm, request, options);
    const durationMs = performance.now() - started;
    llmTokens.inc({ model: name, kind: "prompt" }, result.prompt_tokens);
    llmTokens.inc({ model: name, kind: "completion" }, result.completion_tokens);
    await stream.close();
    return {
      text: storable(result.text),
      model: name,
      finish_reason: result.finish_reason,
      usage: {
        prompt_tokens: result.prompt_tokens,
        completion_tokens: result.completion_tokens,
        total_tokens: result.prompt_tokens + result.completion_tokens,
      },
      duration_ms: Math.round(durationMs),
      tokens_per_s: durationMs > 0 ? Math.round((result.completion_tokens / durationMs) * 1000 * 10) / 10 : 0,
    };
  };
}
