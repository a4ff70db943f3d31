/**
 * Chat generation on a loaded causal LM: the model's chat template, greedy at temperature 0 (seeded
 * temperature/top-p sampling otherwise), stop strings, text streamed in deltas, and an AbortSignal checked
 * after every token so a cancelled run stops generating at once.
 */
import type { LanguageModel } from "../models/registry.ts";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  temperature: number;
  max_tokens: number;
  top_p?: number;
  stop?: string[];
  seed?: number;
}

export interface ChatResult {
  text: string;
  finish_reason: "stop" | "length";
  prompt_tokens: number;
  completion_tokens: number;
}

export interface ChatOptions {
  signal?: AbortSignal;
  /** Each new piece of text, in order; the pieces joined are exactly the result's text. */
  onText?: (delta: string) => void;
  /** Text is handed to onText at most this often (0: after every token); decoding waits until then too. */
  streamIntervalMs?: number;
}

interface TokenTensor {
  dims: number[];
}

/** Where the first stop string begins in the text (looking from `from` on), or -1. */
function stopIndex(text: string, stops: string[], from: number): number {
  let at = -1;
  for (const stop of stops) {
    const i = text.indexOf(stop, from);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}

/** Past this many undecodable trailing tokens (a model emitting invalid UTF-8), the text so far is settled. */
const MAX_UNSETTLED_TOKENS = 256;

/** How much of `text` is safe to stream: not an unfinished UTF-8 character, not the start of a stop string. */
function streamableLength(text: string, stops: string[]): number {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0xfffd) end--;
  let held = 0;
  for (const stop of stops) {
    for (let k = Math.min(stop.length - 1, end); k > held; k--) {
      if (text.endsWith(stop.slice(0, k), end)) {
        held = k;
        break;
      }
    }
  }
  return end - held;
}

/** Temperature and top-p sampling with its own seeded generator, leaving only the drawn token to greedy search. */
function seededSampler(lm: LanguageModel, temperature: number, topP: number, seed: number | undefined) {
  const rng = new lm.lib.random.Random(seed);
  return (_ids: bigint[][], logits: { data: Float32Array; dims: number[] }) => {
    const vocab = logits.dims.at(-1)!;
    for (let row = 0; row * vocab < logits.data.length; row++) {
      const scores = logits.data.subarray(row * vocab, (row + 1) * vocab);
      let max = -Infinity;
      for (const s of scores) if (s > max) max = s;
      const probs = new Float64Array(vocab);
      let sum = 0;
      for (let i = 0; i < vocab; i++) sum += probs[i] = Math.exp((scores[i] - max) / temperature);
      const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]);
      // Smallest set of most likely tokens whose mass reaches top_p.
      let kept = 0;
      let mass = 0;
      while (kept < vocab && (kept === 0 || mass < topP * sum)) mass += probs[order[kept++]];
      let draw = rng.random() * mass;
      let chosen = order[kept - 1];
      for (let i = 0; i < kept; i++) {
        draw -= probs[order[i]];
        if (draw <= 0) {
          chosen = order[i];
          break;
        }
      }
      scores.fill(-Infinity);
      scores[chosen] = 0;
    }
    return logits;
  };
}

export async function generateChat(lm: LanguageModel, request: ChatRequest, options: ChatOptions = {}) {
  const { tokenizer, model } = lm;
  const { signal, onText, streamIntervalMs = 0 } = options;
  const stops = request.stop ?? [];
  const inputs = tokenizer.apply_chat_template(request.messages as never, {
    add_generation_prompt: true,
    tokenize: true,
    return_dict: true,
  }) as unknown as { input_ids: TokenTensor; attention_mask: TokenTensor };
  const promptTokens = inputs.input_ids.dims.at(-1)!;

  const generated: bigint[] = [];
  let sawPrompt = false;
  let stopped = false;
  let text = "";
  let streamed = 0;
  // Decoding is incremental: text up to `settledTokens` is fixed (it ended on a whole character), and only
  // the tokens after it are decoded again, so a long generation does not decode everything at every step.
  let settledText = "";
  let settledTokens = 0;
  let nextStream = 0;
  const longestStop = Math.max(0, ...stops.map((s) => s.length));
  const stream = (upTo: number) => {
    if (upTo > streamed) {
      onText?.(text.slice(streamed, upTo));
      streamed = upTo;
    }
  };
  const streamer = {
    put(value: bigint[][]) {
      // The first call carries the prompt.
      if (!sawPrompt) {
        sawPrompt = true;
        return;
      }
      generated.push(value[0][0]);
      // Without stop strings, text is only needed when it is next streamed: decode then, not per token.
      const now = performance.now();
      const due = onText !== undefined && now >= nextStream;
      if (!stops.length && !due) return;
      const before = text.length;
      const tail = tokenizer.decode(generated.slice(settledTokens), { skip_special_tokens: true });
      text = settledText + tail;
      if (!tail.endsWith("\ufffd") || generated.length - settledTokens >= MAX_UNSETTLED_TOKENS) {
        settledText = text;
        settledTokens = generated.length;
      }
      const at = stops.length ? stopIndex(text, stops, Math.max(0, before - longestStop + 1)) : -1;
      if (at >= 0) {
        stopped = true;
        text = text.slice(0, at);
      }
      if (due && !stopped) {
        stream(streamableLength(text, stops));
        nextStream = now + streamIntervalMs;
      }
    },
    end() {},
  };
  const stopWhen = () => [stopped || signal?.aborted === true];
  const sampling = request.temperature > 0
    ? [seededSampler(lm, request.temperature, request.top_p ?? 1, request.seed)]
    : null;

  await model.generate({
    ...inputs,
    max_new_tokens: request.max_tokens,
    do_sample: false,
    streamer,
    stopping_criteria: [stopWhen],
    logits_processor: sampling,
  } as never);
  if (signal?.aborted) throw signal.reason ?? new Error("generation cancelled");

  // The result is one decode of every token; streamed pieces were its prefix.
  text = tokenizer.decode(generated, { skip_special_tokens: true });
  const at = stops.length ? stopIndex(text, stops, 0) : -1;
  if (at >= 0) text = text.slice(0, at);
  stream(text.length);
  const eos = [model.generation_config?.eos_token_id ?? []].flat().map((id) => BigInt(id as number));
  const endedOnEos = generated.length > 0 && eos.includes(generated[generated.length - 1]);
  return {
    text,
    finish_reason: stopped || endedOnEos || generated.length < request.max_tokens ? "stop" : "length",
    prompt_tokens: promptTokens,
    completion_tokens: generated.length,
  } satisfies ChatResult;
}
