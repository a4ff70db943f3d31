/** The determinism lint plugin on its fixtures: each rule fires on bad.ts where marked, nothing on good.ts. */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import plugin from "./weft-determinism.ts";

const DENO = fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url));
const FIXTURES = fileURLToPath(new URL("./fixtures/workflows/", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "weft-lint-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Diagnostic = { filename: string; code: string; range: { start: { line: number } } };

/** `deno lint --json` with the plugin on the given files (the repo's deno.json excludes the fixtures). */
function lint(...files: string[]): Diagnostic[] {
  const config = join(tmp, "deno.json");
  const plugins = [pathToFileURL(fileURLToPath(new URL("./weft-determinism.ts", import.meta.url))).href];
  writeFileSync(config, JSON.stringify({ lint: { plugins, rules: { tags: ["recommended"] } } }));
  const out = spawnSync(DENO, ["lint", "--config", config, "--json", ...files], { encoding: "utf8" });
  const result = JSON.parse(out.stdout);
  expect(result.errors).toEqual([]);
  return result.diagnostics;
}

const weft = (diagnostics: Diagnostic[]) =>
  diagnostics.filter((d) => d.code.startsWith("weft/")).map((d) => `${d.range.start.line} ${d.code}`).sort();

describe("weft determinism lint plugin", () => {
  it("reports every marked violation in bad.ts, and nothing else", () => {
    const expected = readFileSync(`${FIXTURES}bad.ts`, "utf8").split("\n").flatMap((line, i) => {
      const rule = /\/\/ expect: (\S+)/.exec(line)?.[1];
      return rule ? [`${i + 1} ${rule}`] : [];
    }).sort();
    expect(weft(lint(`${FIXTURES}bad.ts`))).toEqual(expected);
    // Every rule of the plugin is exercised.
    const rules = new Set(expected.map((e) => e.split(" ")[1]));
    expect([...rules].sort()).toEqual(Object.keys(plugin.rules).map((r) => `weft/${r}`).sort());
  });

  it("accepts good.ts without any diagnostic", () => {
    expect(lint(`${FIXTURES}good.ts`)).toEqual([]);
  });

  it("applies only to workflow code", () => {
    copyFileSync(`${FIXTURES}bad.ts`, join(tmp, "bad.ts"));
    expect(weft(lint(join(tmp, "bad.ts")))).toEqual([]);
  });

  it("does not apply to the tests beside workflow code", () => {
    const test = `${FIXTURES}bad.test.ts`;
    copyFileSync(`${FIXTURES}bad.ts`, test);
    try {
      expect(weft(lint(test))).toEqual([]);
    } finally {
      rmSync(test);
    }
  });

  it("accepts the real workflows/", () => {
    expect(weft(lint(fileURLToPath(new URL("../workflows/", import.meta.url))))).toEqual([]);
  });
});
