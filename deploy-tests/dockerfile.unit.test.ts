/**
 * Dockerfile and .dockerignore (no Docker engine here, so read, not built): the four targets, what they run and
 * as whom, and that no file the processes import is kept out of the build context.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";
import { find, loadManifests } from "./manifests.ts";

interface Stage {
  from: string;
  lines: string[];
}

const dockerfile = readFileSync("Dockerfile", "utf8").replace(/\\\n/g, " ");
const stages = new Map<string, Stage>();
let current: Stage | undefined;
for (const line of dockerfile.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))) {
  const from = line.match(/^FROM (\S+) AS (\S+)$/i);
  if (from) stages.set(from[2], current = { from: from[1], lines: [] });
  else current?.lines.push(line);
}
/** An instruction's arguments in a stage, following FROM <stage> back to the stages it builds on. */
function instruction(stage: string, name: string): string[] {
  const s = stages.get(stage);
  if (!s) return [];
  const own = s.lines.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1));
  return [...instruction(s.from, name), ...own];
}
const last = (stage: string, name: string) => instruction(stage, name).at(-1);

const ignore = readFileSync(".dockerignore", "utf8").split("\n").map((l) => l.trim()).filter((l) =>
  l && !l.startsWith("#")
);
/** Whether .dockerignore keeps a repository path out of the build context (the forms this file uses). */
function ignored(path: string): boolean {
  let out = false;
  for (const raw of ignore) {
    const negate = raw.startsWith("!");
    const pattern = negate ? raw.slice(1) : raw;
    const re = new RegExp(
      "^" + pattern.replace(/[.+^${}()|[\]]/g, "\\$&").replace(/\*\*\//g, "(.*/)?").replace(/\*/g, "[^/]*") + "(/.*)?$",
    );
    if (re.test(path)) out = !negate;
  }
  return out;
}

/** Every repository file reachable by relative imports from the entry points. */
function importGraph(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, "utf8");
    for (const [, spec] of source.matchAll(/(?:from|import\()\s*"(\.\.?\/[^"]+)"/g)) {
      const target = normalize(join(dirname(file), spec));
      if (existsSync(target) && target.endsWith(".ts")) queue.push(target);
    }
  }
  return seen;
}

const manifests = loadManifests(["k8s/api-deployment.yaml", "k8s/worker-cpu-deployment.yaml"]);
const api = find(manifests, "Deployment", "weft-api").spec.template.spec;
const worker = find(manifests, "Deployment", "weft-worker-cpu").spec.template.spec;

describe("Dockerfile", () => {
  it("has the api, worker, worker-gpu and migrations targets", () => {
    for (const target of ["api", "worker", "worker-gpu", "migrations"]) expect(stages.has(target), target).toBe(true);
    expect(stages.get("worker-gpu")!.from).toBe("${CUDA_IMAGE}");
    expect(dockerfile).toMatch(/ARG CUDA_IMAGE=nvidia\/cuda:12[\w.-]*cudnn-runtime/);
  });

  it("installs the locked packages without install scripts, as scripts/setup.sh does", () => {
    const runs = [...stages.values()].flatMap((s) => s.lines).filter((l) => l.startsWith("RUN ")).join("\n");
    expect(runs).toContain("npm install --ignore-scripts");
    expect(runs).not.toMatch(/npm ci\b/);
  });

  it("runs each target as the user the manifests demand, with the commands the README documents", () => {
    for (const target of ["api", "worker", "worker-gpu", "migrations"]) {
      expect(last(target, "USER"), target).toBe(`${api.securityContext.runAsUser}:${api.securityContext.runAsGroup}`);
    }
    expect(JSON.parse(last("api", "CMD")!)).toEqual(
      "deno run --allow-net --allow-env --allow-read --allow-ffi --allow-sys api/main.ts".split(" "),
    );
    expect(JSON.parse(last("worker", "CMD")!)).toEqual(["node", "--import", "tsx", "worker/main.ts"]);
    expect(JSON.parse(last("worker-gpu", "CMD")!)).toEqual(["node", "--import", "tsx", "worker/main.ts"]);
    expect(JSON.parse(last("migrations", "CMD")!)).toEqual(["node", "--import", "tsx", "db/migrate-cli.ts"]);
    expect(last("api", "EXPOSE")).toBe(String(api.containers[0].ports[0].containerPort));
    expect(last("worker", "EXPOSE")).toBe(String(worker.containers[0].ports[0].containerPort));
  });

  it("bundles the workflow code at build time and points the workers at the bundle", () => {
    const built = dockerfile.match(/tsx worker\/build-bundle\.ts (\S+)/)?.[1];
    expect(built).toBeDefined();
    for (const target of ["worker", "worker-gpu"]) {
      expect(instruction(target, "ENV").join(" "), target).toContain(`WORKFLOW_BUNDLE_PATH=${built}`);
    }
  });

  it("caches the API's modules at build time and installs the CUDA provider of onnxruntime-node for GPUs", () => {
    expect(instruction("api-build", "RUN").join(" ")).toContain("deno cache api/main.ts");
    expect(instruction("api", "ENV").join(" ")).toMatch(/DENO_DIR=\S+/);
    expect(instruction("worker-gpu-build", "RUN").join(" ")).toMatch(
      /ONNXRUNTIME_NODE_INSTALL_CUDA=v12 node script\/install\.js/,
    );
  });
});

describe(".dockerignore", () => {
  it("keeps state, installed packages, models, tests and benchmarks out", () => {
    for (const path of [".state/x", "node_modules/x", "models/tiny/x", "test/x.ts", "api/x.test.ts", "bench/x.ts"]) {
      expect(ignored(path), path).toBe(true);
    }
    expect(ignored("deploy-tests/x.ts")).toBe(true);
  });

  it("keeps every file the processes import, and the migrations, in the build context", () => {
    const entries = [
      "api/main.ts",
      "worker/main.ts",
      "worker/build-bundle.ts",
      "db/migrate-cli.ts",
      "workflows/index.ts",
    ];
    const needed = [
      ...importGraph(entries),
      "package.json",
      "package-lock.json",
      "deno.json",
      "db/migrations/001_init.sql",
    ];
    expect(needed.length).toBeGreaterThan(20);
    expect(needed.filter(ignored)).toEqual([]);
    if (existsSync("scripts/faiss-node/build.sh")) expect(ignored("scripts/faiss-node/build.sh")).toBe(false);
  });
});
