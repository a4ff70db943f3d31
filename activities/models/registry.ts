/**
 * Models for the GPU queue's activities: each loads once per worker process, on first use, from MODEL_DIR
 * only (remote loading off). Concurrent first uses share one load; a failed load is forgotten so the next
 * use tries again. CUDA when onnxruntime-node has its CUDA provider (or WEFT_MODEL_DEVICE=cuda), else CPU.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { FeatureExtractionPipeline, PreTrainedModel, PreTrainedTokenizer } from "@huggingface/transformers";
import type { ModelConfig } from "./config.ts";
import { type GgufModel, loadGgufModel, resolveChatModel } from "./gguf.ts";

type Transformers = typeof import("@huggingface/transformers");
export type Device = "cuda" | "cpu";
export type ModelLog = (msg: string, fields: Record<string, unknown>) => void;

export interface LanguageModel {
  engine: "onnx";
  name: string;
  device: Device;
  tokenizer: PreTrainedTokenizer;
  model: PreTrainedModel;
  lib: Transformers;
}

export interface Embedder {
  name: string;
  device: Device;
  dimension: number;
  /** L2-normalised mean-pooled sentence embeddings, row-major in one array (texts.length × dimension). */
  embed(texts: string[]): Promise<Float32Array>;
}

/** Whether the installed onnxruntime-node carries its CUDA execution provider (a GPU image installs it). */
export function cudaProviderInstalled(): boolean {
  try {
    const require = createRequire(import.meta.url);
    const pkg = dirname(require.resolve("onnxruntime-node/package.json"));
    return existsSync(join(pkg, "bin", "napi-v6", process.platform, process.arch, "libonnxruntime_providers_cuda.so"));
  } catch {
    return false;
  }
}

const defaultLog: ModelLog = (msg, fields) =>
  console.log(
    JSON.stringify({ time: new Date().toISOString(), level: "info", msg, service: "weft-worker", ...fields }),
  );

export class ModelRegistry {
  readonly config: ModelConfig;
  private lib: Promise<Transformers> | undefined;
  private readonly loads = new Map<string, Promise<unknown>>();
  private readonly log: ModelLog;

  constructor(config: ModelConfig, log: ModelLog = defaultLog) {
    this.config = config;
    this.log = log;
  }

  /** transformers.js (and onnxruntime-node) are imported on first use: a CPU-queue worker never loads them. */
  private transformers(): Promise<Transformers> {
    this.lib ??= import("@huggingface/transformers").then((lib) => {
      lib.env.allowRemoteModels = false;
      lib.env.allowLocalModels = true;
      lib.env.localModelPath = this.config.modelDir.endsWith("/") ? this.config.modelDir : `${this.config.modelDir}/`;
      return lib;
    });
    return this.lib;
  }

  private once<T>(key: string, load: () => Promise<T>): Promise<T> {
    let pending = this.loads.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = load();
      this.loads.set(key, pending);
      pending.catch(() => this.loads.delete(key));
    }
    return pending;
  }

  /** Tries CUDA first unless told CPU; falls back to CPU (and says so) when the CUDA session cannot start. */
  private async onDevice<T>(kind: string, name: string, load: (device: Device) => Promise<T>): Promise<[T, Device]> {
    const started = performance.now();
    const wanted: Device[] = this.config.device === "cpu"
      ? ["cpu"]
      : this.config.device === "cuda" || cudaProviderInstalled()
      ? ["cuda", "cpu"]
      : ["cpu"];
    let lastError: unknown;
    for (const device of wanted) {
      try {
        const loaded = await load(device);
        const load_ms = Math.round(performance.now() - started);
        this.log("model loaded", { kind, model: name, device, dtype: this.config.dtype, load_ms });
        return [loaded, device];
      } catch (err) {
        lastError = err;
        if (device === "cuda") {
          this.log("model falls back to CPU", { kind, model: name, error: (err as Error).message.slice(0, 300) });
        }
      }
    }
    throw lastError;
  }

  languageModel(name = this.config.llmModel): Promise<LanguageModel> {
    return this.once(`llm:${name}`, async () => {
      const lib = await this.transformers();
      const tokenizer = await lib.AutoTokenizer.from_pretrained(name);
      const [model, device] = await this.onDevice(
        "llm",
        name,
        (device) => lib.AutoModelForCausalLM.from_pretrained(name, { device, dtype: this.config.dtype }),
      );
      return { engine: "onnx" as const, name, device, tokenizer, model, lib };
    });
  }

  /** The chat model `name` on the engine its files call for (GGUF: node-llama-cpp; ONNX: transformers.js). */
  chatModel(name = this.config.llmModel): Promise<LanguageModel | GgufModel> {
    const found = resolveChatModel(this.config.modelDir, name);
    if (found?.engine !== "gguf") return this.languageModel(name);
    return this.once(`gguf:${name}`, async () => {
      const started = performance.now();
      const lm = await loadGgufModel(name, found.path, {
        device: this.config.device,
        threads: this.config.llmThreads,
        contextSize: this.config.llmContextSize,
      });
      const load_ms = Math.round(performance.now() - started);
      this.log("model loaded", {
        kind: "llm",
        engine: "gguf",
        model: name,
        device: lm.device,
        threads: lm.threads,
        load_ms,
      });
      return lm;
    });
  }

  embedder(name = this.config.embeddingModel): Promise<Embedder> {
    return this.once(`embedding:${name}`, async () => {
      const lib = await this.transformers();
      const [extractor, device] = await this.onDevice(
        "embedding",
        name,
        (device) =>
          lib.pipeline("feature-extraction", name, { device, dtype: this.config.dtype }) as Promise<
            FeatureExtractionPipeline
          >,
      );
      const dimension = Number((extractor.model.config as unknown as { hidden_size: number }).hidden_size);
      return {
        name,
        device,
        dimension,
        embed: async (texts: string[]) => {
          if (texts.length === 0) return new Float32Array(0);
          const out = await extractor(texts, { pooling: "mean", normalize: true });
          return out.data as Float32Array;
        },
      };
    });
  }
}
