/**
 * GGUF language models through node-llama-cpp (llama.cpp's prebuilt binaries; never built at install or at
 * run time): the engine for Qwen's and SmolLM2's own GGUF files. A model folder holding a `*.gguf` file (or a
 * `*.gguf` file directly under MODEL_DIR) is run by this engine; a folder with `config.json` and `onnx/` by
 * transformers.js. Contexts are kept in a small pool per model, because making one costs about a second.
 */
import { readdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { ChatWrapper, Llama, LlamaContextSequence, LlamaModel } from "node-llama-cpp";

export type ChatEngine = { engine: "gguf"; path: string } | { engine: "onnx"; path: string };

/** Which engine runs model `name` under `modelDir`, or null when there is no such model. */
export function resolveChatModel(modelDir: string, name: string): ChatEngine | null {
  const path = join(modelDir, name);
  try {
    const stat = statSync(path);
    if (stat.isFile()) return name.endsWith(".gguf") ? { engine: "gguf", path } : null;
    const files = readdirSync(path);
    const gguf = files.filter((f) => f.endsWith(".gguf")).sort();
    if (gguf.length > 0) return { engine: "gguf", path: join(path, gguf[0]) };
    return files.includes("config.json") ? { engine: "onnx", path } : null;
  } catch {
    return null;
  }
}

export type NodeLlamaCpp = typeof import("node-llama-cpp");

export interface GgufModel {
  engine: "gguf";
  /** The library, imported on first use: a worker that runs no GGUF model never loads it. */
  lib: NodeLlamaCpp;
  name: string;
  /** What llama.cpp actually runs on: "cpu", or the GPU backend ("cuda", "vulkan", "metal"). */
  device: string;
  threads: number;
  llama: Llama;
  model: LlamaModel;
  /**
   * The model's chat template (from the GGUF), resolved once: resolving it per session re-tests the template
   * and cost ~2 s before each generation's first token on a busy 2-core machine.
   */
  chatWrapper: ChatWrapper;
  /**
   * A context sequence for one generation; give it back with `release` (it is reused, its history cleared).
   * Waits while `parallel` generations run (a cancelled wait throws the signal's reason).
   */
  acquire(signal?: AbortSignal): Promise<LlamaContextSequence>;
  /** Generations at once: on CPU, as many as the cores allow at `threads` each; on a GPU, a few. */
  parallel: number;
  release(sequence: LlamaContextSequence): Promise<void>;
}

let llamaPromise: Promise<[Llama, NodeLlamaCpp]> | undefined;

/** One llama.cpp runtime per process. `gpu: false` on CPU; otherwise the best prebuilt backend that loads. */
function runtime(device: "auto" | "cuda" | "cpu"): Promise<[Llama, NodeLlamaCpp]> {
  llamaPromise ??= import("node-llama-cpp").then(async (lib) => {
    const llama = await lib.getLlama({
      gpu: device === "cpu" ? false : device === "cuda" ? "cuda" : "auto",
      build: "never",
      logLevel: lib.LlamaLogLevel.error,
    });
    return [llama, lib];
  });
  llamaPromise.catch(() => (llamaPromise = undefined));
  return llamaPromise;
}

export async function loadGgufModel(
  name: string,
  path: string,
  options: { device: "auto" | "cuda" | "cpu"; threads: number; contextSize: number },
): Promise<GgufModel> {
  const [llama, lib] = await runtime(options.device);
  const model = await llama.loadModel({ modelPath: path });
  const chatWrapper = lib.resolveChatWrapper(model);
  // llama.cpp's threads spin while they wait: more threads than cores makes generation many times slower.
  const threads = options.threads || availableParallelism();
  const contextSize = Math.min(options.contextSize, model.trainContextSize);
  const idle: LlamaContextSequence[] = [];
  const device = llama.gpu === false ? "cpu" : llama.gpu;
  // Two CPU generations sharing cores would each run many times slower than one after the other.
  const parallel = device === "cpu" ? Math.max(1, Math.floor(availableParallelism() / threads)) : 4;
  let running = 0;
  const waiting: (() => void)[] = [];
  const turn = (signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (running < parallel) {
        running++;
        return resolve();
      }
      const go = () => {
        signal?.removeEventListener("abort", cancel);
        running++;
        resolve();
      };
      const cancel = () => {
        waiting.splice(waiting.indexOf(go), 1);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", cancel, { once: true });
      waiting.push(go);
    });
  return {
    engine: "gguf",
    lib,
    name,
    device,
    threads,
    parallel,
    llama,
    model,
    chatWrapper,
    acquire: async (signal) => {
      signal?.throwIfAborted();
      await turn(signal);
      try {
        return idle.pop() ?? (await model.createContext({ contextSize, threads })).getSequence();
      } catch (err) {
        running--;
        waiting.shift()?.();
        throw err;
      }
    },
    release: async (sequence) => {
      try {
        if (!sequence.disposed) {
          await sequence.clearHistory();
          idle.push(sequence);
        }
      } finally {
        running--;
        waiting.shift()?.();
      }
    },
  };
}
