/**
 * `scripts/run.sh` under a supervisor: the first SIGTERM stops the stack and ends the script. It runs against
 * the test stack's Temporal (run.sh then starts none of its own), on ports, a database and task queues of its own.
 */
import { spawn } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { TEST_DATABASE_URL, TEST_TEMPORAL_PORT } from "../test/env.ts";
import { freePort, portOpen, sleep, waitFor } from "../test/stack.ts";

const children: { kill: (s: NodeJS.Signals) => void }[] = [];
afterAll(() => children.forEach((c) => c.kill("SIGKILL")));

describe("scripts/run.sh", () => {
  it("exits on the first SIGTERM, and the API and worker it started are gone", async () => {
    const [port, demoPort] = [await freePort(), await freePort()];
    const db = new URL(TEST_DATABASE_URL);
    db.pathname = `${db.pathname}_runsh`;
    const proc = spawn("bash", ["scripts/run.sh"], {
      env: {
        ...process.env,
        PORT: String(port),
        DEMO_PORT: String(demoPort),
        TEMPORAL_PORT: String(TEST_TEMPORAL_PORT),
        DATABASE_URL: db.toString(),
        WEFT_TASK_QUEUE: `weft-runsh-${port}`,
        WEFT_GPU_TASK_QUEUE: `weft-runsh-gpu-${port}`,
        WORKER_METRICS_PORT: String(await freePort()),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(proc);
    let out = "";
    proc.stdout.on("data", (c) => (out += c));
    proc.stderr.on("data", (c) => (out += c));
    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
    await waitFor("run.sh to bring the API up", () => out.includes("run: API on"), 120_000, 200, () => out);
    expect(await portOpen(port)).toBe(true);
    // The demo runs a workflow, then the script idles in its wait loop: the state a supervisor stops it in.
    await waitFor("the demo to finish", () => /Try it yourself|rror/.test(out), 60_000, 200, () => out);
    await sleep(500);
    const t0 = Date.now();
    proc.kill("SIGTERM");
    const code = await Promise.race([exited, sleep(30_000).then(() => "still running" as const)]);
    expect(code, out.slice(-2000)).not.toBe("still running");
    expect(code).toBe(143);
    expect(Date.now() - t0).toBeLessThan(25_000);
    expect(out).toContain("run: stopping Weft");
    expect(await portOpen(port)).toBe(false);
  }, 200_000);
});
