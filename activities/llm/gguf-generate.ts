/**
 * Chat generation on a GGUF model (node-llama-cpp), with the same contract as generate.ts for ONNX models: the
 * model's own chat template (read from the GGUF), greedy at temperature 0 (seeded sampling otherwise), stop
 * strings never streamed, text handed over at most once per stream interval, usage, and an AbortSignal that
 * stops generation at the next token.
 */
import type { ChatHistoryItem } from "node-llama-cpp";
import type { GgufModel } from "../models/gguf.ts";
import type { ChatOptions, ChatRequest, ChatResult } from "./generate.ts";

/** Everything before the last user message becomes the session's history; that message is the prompt. */
function splitMessages(messages: ChatRequest["messages"]): { history: ChatHistoryItem[]; prompt: string } {
  const last = messages.at(-1);
  if (!last || last.role !== "user") throw new Error("the last chat message must be the user's");
  const history: ChatHistoryItem[] = messages.slice(0, -1).map((m) =>
    m.role === "system"
      ? { type: "system", text: m.content }
      : m.role === "user"
      ? { type: "user", text: m.content }
      : { type: "model", response: [m.content] }
  );
  return { history, prompt: last.content };
}

export async function generateChatGguf(
  lm: GgufModel,
  request: ChatRequest,
  options: ChatOptions = {},
): Promise<ChatResult> {
  const { signal, onText, streamIntervalMs = 0 } = options;
  signal?.throwIfAborted();
  const { history, prompt } = splitMessages(request.messages);
  const sequence = await lm.acquire(signal);
  const session = new lm.lib.LlamaChatSession({
    contextSequence: sequence,
    chatWrapper: lm.chatWrapper,
    autoDisposeSequence: false,
  });
  let pending = "";
  let nextStream = 0;
  const flush = () => {
    if (pending) onText?.(pending);
    pending = "";
  };
  try {
    // No system message: an empty history, not the library's default system prompt.
    session.setChatHistory(history);
    const usedBefore = sequence.tokenMeter.getState();
    const result = await session.promptWithMeta(prompt, {
      maxTokens: request.max_tokens,
      temperature: request.temperature,
      topP: request.top_p,
      seed: request.seed,
      customStopTriggers: request.stop?.length ? request.stop : undefined,
      signal,
      // Text the library hands over has already had any partial stop string held back.
      onTextChunk: onText && ((chunk) => {
        pending += chunk;
        const now = performance.now();
        if (now >= nextStream) {
          flush();
          nextStream = now + streamIntervalMs;
        }
      }),
    });
    flush();
    const used = sequence.tokenMeter.diff(usedBefore);
    return {
      text: result.responseText,
      finish_reason: result.stopReason === "maxTokens" ? "length" : "stop",
      prompt_tokens: used.usedInputTokens,
      completion_tokens: used.usedOutputTokens,
    };
  } catch (err) {
    if (signal?.aborted) throw signal.reason ?? err;
    throw err;
  } finally {
    session.dispose({ disposeSequence: false });
    await lm.release(sequence);
  }
}
