/**
 * What the workflow bundle reaches. Every workflow execution evaluates its bundle's modules afresh (Temporal's
 * reusable VM gives each workflow its own module cache), so a package imported by workflow code costs its module
 * initialisation on every run: zod building its schemas cost ~7 ms of worker CPU per run, twice (core/node-kinds.ts).
 * This walks the value imports (not `import type`) from the bundle's entry points and names the packages reached.
 */
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { FAILURE_CONVERTER_PATH, WORKFLOW_INTERCEPTORS_PATH, WORKFLOWS_PATH } from "../worker/bundle.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** The bundle's entry points, as worker/bundle.ts builds it, relative to the repository. */
const ENTRIES = [WORKFLOWS_PATH, WORKFLOW_INTERCEPTORS_PATH, FAILURE_CONVERTER_PATH].map((p) => relative(ROOT, p));
/**
 * Packages every workflow loads: the SDK alone. Its OpenTelemetry interceptors are loaded only by a traced workflow
 * and JSONata only by a replay of a history that evaluated expressions on the workflow thread (`require` in
 * workflows/tracing.ts and workflows/jsonata.ts); both stay in the bundle.
 */
const ALLOWED = /^@temporalio\/(?!interceptors-opentelemetry)/;

const IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[\s\S]*?\sfrom\s+)?["']([^"']+)["']/gm;

/** Repo files and packages reachable from the entries through value imports. */
export function reach(
  entries: string[],
  read: (file: string) => string,
): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [...entries];
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const [, spec] of read(file).matchAll(IMPORT)) {
      if (spec.startsWith(".")) queue.push(relative(ROOT, join(ROOT, dirname(file), spec)));
      else packages.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
    }
  }
  return { files, packages };
}

it("the workflow bundle's imports reach no package beyond the SDK (no zod, OpenTelemetry or JSONata)", () => {
  const { files, packages } = reach(ENTRIES, (f) => readFileSync(join(ROOT, f), "utf8"));
  expect(ENTRIES).toEqual(["workflows/index.ts", "workflows/tracing.ts", "core/failure-converter.ts"]);
  expect(files.size).toBeGreaterThan(20);
  expect(files).toContain("core/node-kinds.ts");
  expect(files).not.toContain("core/template.ts");
  expect([...packages].filter((p) => !p.startsWith("node:") && !ALLOWED.test(p))).toEqual([]);
  expect(packages).not.toContain("zod");
});

it("the walk sees value imports and re-exports, not type-only ones", () => {
  const src: Record<string, string> = {
    "a.ts": 'import type { A } from "zod";\nimport {\n  b,\n  type C,\n} from "./b.ts";\nexport { d } from "./d.ts";',
    "b.ts": 'import { z } from "zod";',
    "d.ts": 'export type { T } from "./e.ts";',
  };
  const { files, packages } = reach(["a.ts"], (f) => src[f]);
  expect([...files].sort()).toEqual(["a.ts", "b.ts", "d.ts"]);
  expect([...packages]).toEqual(["zod"]);
});
