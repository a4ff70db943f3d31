/**
 * The configuration tables of the README and docs/deploy.md against the processes' schemas: every variable a
 * schema parses is documented in each, and each documents only variables that exist. A table is found wherever it
 * is (any table whose first column is headed "variable"), so the documents may be reorganised freely.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { configSchema as apiSchema } from "../api/config.ts";
import { gpuWorkerSchema } from "../worker/config.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SCHEMA_VARS = new Set([...Object.keys(apiSchema.shape), ...Object.keys(gpuWorkerSchema.shape)]);

const cells = (line: string) => line.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());

/** The `NAME`s in the first column of every table headed "variable"; `_SUFFIX` shorthands are reported as such. */
export function documentedVariables(markdown: string): string[] {
  const names: string[] = [];
  let inTable = false;
  for (const line of markdown.split("\n")) {
    if (!line.trimStart().startsWith("|")) {
      inTable = false;
      continue;
    }
    const first = cells(line)[0];
    if (!inTable) {
      inTable = first.toLowerCase() === "variable";
      continue;
    }
    for (const [, name] of first.matchAll(/`([A-Z_][A-Z0-9_]*)`/g)) names.push(name);
  }
  return names;
}

describe.each(["README.md", "docs/deploy.md"])("%s", (file) => {
  const documented = documentedVariables(readFileSync(ROOT + file, "utf8"));

  it("has a configuration table", () => {
    expect(documented.length).toBeGreaterThan(10);
  });

  it("documents every variable the API and the workers parse", () => {
    expect([...SCHEMA_VARS].filter((v) => !documented.includes(v)).sort()).toEqual([]);
  });

  it("documents only variables that exist, each spelt in full", () => {
    expect(documented.filter((v) => !SCHEMA_VARS.has(v))).toEqual([]);
  });
});

it("finds variables only in the first column of tables headed variable", () => {
  const md = [
    "| variable | default |",
    "|---|---|",
    "| `A_B`, `C` (set `1` or `X_Y`) | `NOT_THIS` |",
    "",
    "| setting | x |",
    "|---|---|",
    "| `NOR_THIS` | |",
    "`OR_THIS`",
  ].join("\n");
  expect(documentedVariables(md)).toEqual(["A_B", "C", "X_Y"]);
});
