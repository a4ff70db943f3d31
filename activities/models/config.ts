/** Where models come from and which ones run: the GPU worker's model settings (its config spreads `modelEnv`). */
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { type Env, parseEnv } from "../../core/env.ts";

/** The repository's tiny fixtures (models/): the local default, so everything runs with no download. */
const FIXTURES_DIR = fileURLToPath(new URL("../../models/", import.meta.url));

/**
 * Where scripts/models.sh puts the real models from registry packages (all-MiniLM-L6-v2, SmolLM2-135M-Instruct)
 * beside links to the fixtures: the MODEL_DIR of the stack scripts/run.sh starts.
 */
export const INSTALLED_MODELS_DIR = fileURLToPath(new URL("../../.state/models/", import.meta.url));
export const REAL_EMBEDDING_MODEL = "all-MiniLM-L6-v2";
export const REAL_LLM_MODEL = "SmolLM2-135M-Instruct";

/**
 * A model is a folder directly under MODEL_DIR: Hugging Face layout with ONNX weights in onnx/, or holding a GGUF
 * file (a `.gguf` file directly under MODEL_DIR is a model too).
 */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const modelEnv = {
  MODEL_DIR: z.string().min(1).default(FIXTURES_DIR),
  /** The llm_call default when a node names no model. */
  WEFT_LLM_MODEL: z.string().regex(MODEL_NAME).default("tiny-qwen3"),
  /** The sentence encoder for collections and faiss_search (all-MiniLM-L6-v2 in production). */
  WEFT_EMBEDDING_MODEL: z.string().regex(MODEL_NAME).default("tiny-bert-encoder"),
  /** auto: CUDA when onnxruntime-node has its CUDA provider, else CPU. */
  WEFT_MODEL_DEVICE: z.enum(["auto", "cuda", "cpu"]).default("auto"),
  /** ONNX weights to load: fp32 (model.onnx), or a quantised variant the folder has (model_q8.onnx …). */
  WEFT_MODEL_DTYPE: z.enum(["fp32", "fp16", "q8", "int8", "uint8", "q4", "bnb4", "q4f16"]).default("fp32"),
  /** CPU threads per GGUF generation (0: one per core). More threads than free cores slows llama.cpp a lot. */
  WEFT_LLM_THREADS: z.coerce.number().int().min(0).max(1024).default(0),
  /** Tokens a GGUF generation's context holds (prompt + answer), capped by what the model was trained on. */
  WEFT_LLM_CONTEXT_SIZE: z.coerce.number().int().min(256).max(1_048_576).default(4096),
};
const schema = z.object(modelEnv);
type ModelSettings = z.infer<typeof schema>;

export interface ModelConfig {
  modelDir: string;
  llmModel: string;
  embeddingModel: string;
  device: "auto" | "cuda" | "cpu";
  dtype: ModelSettings["WEFT_MODEL_DTYPE"];
  llmThreads: number;
  llmContextSize: number;
}

/** A ModelRegistry's settings from a process's parsed config. */
export function modelConfig(c: ModelSettings): ModelConfig {
  return {
    modelDir: c.MODEL_DIR,
    llmModel: c.WEFT_LLM_MODEL,
    embeddingModel: c.WEFT_EMBEDDING_MODEL,
    device: c.WEFT_MODEL_DEVICE,
    dtype: c.WEFT_MODEL_DTYPE,
    llmThreads: c.WEFT_LLM_THREADS,
    llmContextSize: c.WEFT_LLM_CONTEXT_SIZE,
  };
}

/** The settings from variables (tests and benchmarks name theirs; the worker parses its whole config once). */
export const modelConfigFromEnv = (env: Env): ModelConfig => modelConfig(parseEnv(schema, env, "model"));
