/**
 * Configuration is parsed once per process: the environment is read only by the entry points (which hand it to
 * their config module) and the config modules, never by library code, which takes what it needs as a parameter.
 * Tests, benchmarks, scripts and the deploy tests may read it.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Where reading the environment is allowed: each process's entry point and config module. */
export const ENV_READERS = new Set([
  "api/main.ts",
  "api/config.ts",
  "worker/main.ts",
  "worker/config.ts",
  // Setup CLIs, run by hand or by the migrations Job.
  "db/migrate-cli.ts",
]);
const EXEMPT_FOLDERS = /^(test|bench|scripts|deploy-tests|lint\/fixtures)\//;

/** `process.env`, `Deno.env`, `process["env"]` and `env` taken from node:process. */
const ENV_READ =
  /\bprocess\s*(\.\s*env\b|\[\s*["'`]env["'`]\s*\])|\bDeno\s*\.\s*env\b|\benv\b[^;\n]*\bfrom\s+["']node:process["']/;

export function envReads(files: string[], read: (file: string) => string): string[] {
  const found: string[] = [];
  for (const file of files) {
    if (ENV_READERS.has(file) || EXEMPT_FOLDERS.test(file) || file.endsWith(".test.ts")) continue;
    read(file).split("\n").forEach((line, i) => {
      if (ENV_READ.test(line)) found.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  return found;
}

it("reads the environment only in entry points and config modules", () => {
  const files = execFileSync("git", ["ls-files", "*.ts"], { cwd: ROOT, encoding: "utf8" }).split("\n").filter(Boolean);
  expect(files.length).toBeGreaterThan(50);
  expect(envReads(files, (f) => readFileSync(ROOT + f, "utf8"))).toEqual([]);
});

it("catches each way of reading it", () => {
  const code = [
    "const a = process.env.X;",
    'const b = process["env"];',
    "const c = Deno.env.get('X');",
    'import { env } from "node:process";',
    "const ok = config.env;",
  ].join("\n");
  expect(envReads(["activities/x.ts"], () => code)).toHaveLength(4);
  expect(envReads(["api/main.ts", "test/x.ts", "api/x.test.ts"], () => code)).toEqual([]);
});
