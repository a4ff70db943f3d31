/**
 * README command 1 as a new user runs it: `scripts/run.sh` sets up, starts the whole stack on the real models
 * (all-MiniLM-L6-v2, SmolLM2-135M-Instruct) and runs the demo for a city. Its climate search (no metadata
 * filter: the embeddings alone) must return that city's notes, and the brief must be English sentences. The
 * stack gets its own ports, database, Temporal (in memory) and log folder, so it runs beside other stacks.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../db/client.ts";
import { TEST_DATABASE_URL, TEST_TEMPORAL_PORT } from "../test/env.ts";

const base = TEST_TEMPORAL_PORT + 80;
const apiPort = base + 1;
const databaseUrl = TEST_DATABASE_URL.replace(/\/[^/]*$/, "/weft_run_demo");
const logs = mkdtempSync(join(tmpdir(), "weft-run-"));
let child: ChildProcess;
let stdout = "";

/** Waits for the demo to print its last line (or for run.sh to exit, which is a failure). */
function demoFinished(timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`run.sh did not finish the demo:\n${stdout}`)), timeoutMs);
    const check = () => {
      if (stdout.includes("Press Ctrl-C to stop")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", (chunk) => {
      stdout += chunk;
      check();
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`run.sh exited (${code}) before the demo finished:\n${stdout}`));
    });
  });
}

beforeAll(async () => {
  // A fresh database, as on a new machine.
  const admin = connect(TEST_DATABASE_URL.replace(/\/[^/]*$/, "/postgres"), { max: 1 });
  await admin.unsafe("DROP DATABASE IF EXISTS weft_run_demo WITH (FORCE)");
  await admin.end();
  child = spawn("bash", ["scripts/run.sh"], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PORT: String(apiPort),
      TEMPORAL_PORT: String(base + 2),
      TEMPORAL_UI_PORT: String(base + 3),
      TEMPORAL_DB_FILE: "",
      DEMO_PORT: String(base + 4),
      WORKER_METRICS_PORT: String(base + 5),
      WEFT_METRICS_PORT: String(base + 6),
      DATABASE_URL: databaseUrl,
      WEFT_LOG_DIR: logs,
      DEMO_CITY: "tokyo",
      // A shared CPU: llama.cpp's spinning threads collapse when every core is busy.
      WEFT_LLM_THREADS: "1",
    },
  });
  child.stderr!.on("data", (chunk) => (stdout += chunk));
  await demoFinished(290_000);
}, 300_000);

afterAll(async () => {
  console.log(stdout.split("\n").filter((l) => /climate notes found|brief \(/.test(l)).join("\n"));
  if (child?.pid && child.exitCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(-child.pid, "SIGTERM");
    await exited;
  }
  rmSync(logs, { recursive: true, force: true });
}, 60_000);

describe("scripts/run.sh on the real models", () => {
  it("prints a brief in English sentences and finds the asked city's climate notes", async () => {
    expect(stdout).toMatch(/Run [0-9a-f-]+: SUCCEEDED/);
    const token = /export TOKEN=(\S+)/.exec(stdout)![1];
    const runPath =
      /curl -s http:\/\/127\.0\.0\.1:\d+(\/api\/workflows\/[0-9a-f-]+\/runs\/[0-9a-f-]+)/.exec(stdout)![1];
    const res = await fetch(`http://127.0.0.1:${apiPort}${runPath}`, { headers: { authorization: `Bearer ${token}` } });
    const run = await res.json();
    const output = (name: string) =>
      run.node_executions.find((n: { node_name: string }) => n.node_name === name).output;

    const notes: string[] = output("climate").results.map((r: { text: string }) => r.text);
    expect(notes).toHaveLength(2);
    for (const note of notes) expect(note).toMatch(/^Tokyo/);

    const brief = output("brief");
    expect(brief.model).toBe("SmolLM2-135M-Instruct");
    const words = brief.text.trim().split(/\s+/);
    expect(words.length).toBeGreaterThanOrEqual(8);
    expect(
      words.filter((w: string) => /^[A-Za-z°][A-Za-z'°-]*[.,;:!?]?$|^\d+(°C)?[.,]?$/.test(w)).length / words.length,
    )
      .toBeGreaterThan(0.8);
    expect(brief.text).toMatch(/[.!?]/);
    expect(stdout).toContain(`brief (SmolLM2-135M-Instruct`);
  });
});
