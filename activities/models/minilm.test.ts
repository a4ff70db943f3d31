/**
 * The real all-MiniLM-L6-v2 that setup assembles (int8 ONNX through transformers.js) against reference vectors
 * computed another way: a NumPy forward pass over the float32 safetensors (scripts/fixtures/minilm_reference.py).
 * int8 weights move each vector a little; cosine ≥ 0.99 to the float32 reference is the tolerance.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { INSTALLED_MODELS_DIR, modelConfigFromEnv, REAL_EMBEDDING_MODEL } from "./config.ts";
import { type Embedder, ModelRegistry } from "./registry.ts";

const reference: { sentences: string[]; vectors: number[][] } = JSON.parse(
  readFileSync(new URL("./testdata/minilm-reference.json", import.meta.url), "utf8"),
);
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

let embedder: Embedder;
beforeAll(async () => {
  const models = new ModelRegistry(modelConfigFromEnv({ MODEL_DIR: INSTALLED_MODELS_DIR }), () => {});
  embedder = await models.embedder(REAL_EMBEDDING_MODEL);
});

describe("all-MiniLM-L6-v2 (installed by scripts/models.sh)", () => {
  it("gives 384-d normalised vectors within cosine 0.99 of the float32 reference, per sentence", async () => {
    expect(embedder.dimension).toBe(384);
    const d = embedder.dimension;
    const vectors = await embedder.embed(reference.sentences);
    expect(vectors.length).toBe(reference.sentences.length * d);
    const cosines = reference.vectors.map((want, i) => {
      const got = vectors.subarray(i * d, (i + 1) * d);
      expect(Math.sqrt(dot(got, got))).toBeCloseTo(1, 4);
      return dot(got, want) / Math.sqrt(dot(want, want));
    });
    for (const c of cosines) expect(c).toBeGreaterThanOrEqual(0.99);
    console.log(`MiniLM int8 vs float32 reference: min cosine ${Math.min(...cosines).toFixed(4)}`);
  });

  it("embeds a sentence alone the same as inside a padded batch", async () => {
    const d = embedder.dimension;
    const batch = await embedder.embed(reference.sentences);
    const alone = await embedder.embed([reference.sentences[3]]);
    expect(dot(alone, batch.subarray(3 * d, 4 * d))).toBeGreaterThan(0.9999);
  });

  it("puts paraphrases close and unrelated sentences far apart", async () => {
    const d = embedder.dimension;
    const v = await embedder.embed(reference.sentences.slice(0, 3));
    const [cat, kitten, rates] = [0, 1, 2].map((i) => v.subarray(i * d, (i + 1) * d));
    expect(dot(cat, kitten)).toBeGreaterThan(0.5);
    expect(dot(cat, rates)).toBeLessThan(0.1);
  });
});
