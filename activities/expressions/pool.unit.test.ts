/**
 * The expression pool under attack: runaway expressions are stopped at their bound, in a child process, while
 * this process's event loop stays responsive and other callers are answered at once.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluateExpression, TemplateError } from "../../core/template.ts";
import { ExpressionLimitError, ExpressionPool } from "./pool.ts";

const pool = new ExpressionPool({ timeoutMs: 1500, memoryMb: 64, maxProcesses: 4 });
beforeAll(() => pool.warm(), 60_000);
afterAll(() => pool.close());

/** The longest the event loop went without running a 10 ms timer, while `work` ran. */
async function loopLag<T>(work: Promise<T>): Promise<{ result: PromiseSettledResult<T>; lagMs: number }> {
  let lagMs = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lagMs = Math.max(lagMs, now - last - 10);
    last = now;
  }, 10);
  const [result] = await Promise.allSettled([work]);
  clearInterval(timer);
  return { result, lagMs };
}

const ATTACKS: [string, string, RegExp][] = [
  [
    "a catastrophic regex in $match",
    '$match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /(a+)+$/)',
    /longer than 1500 ms/,
  ],
  [
    "a catastrophic regex in $contains",
    '$contains("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /(a|aa)+$/)',
    /longer than/,
  ],
  ["a huge $map", "$sum($map([1..10000000], function($v) { $v * 2 }))", /stopped/],
  ["endless recursion", "($f := function($x) { $f($x) }; $f(1))", /stopped|stack|depth/i],
  [
    "a string blow-up",
    '($d := function($s, $n) { $n = 0 ? $s : $d($s & $s, $n - 1) }; $length($d("xxxxxxxx", 40)))',
    /stopped|invalid string length/i,
  ],
];

describe("ExpressionPool", () => {
  it("evaluates expressions and templates like core/template.ts, in about a millisecond once warm", async () => {
    expect(await pool.evaluate("input.n * 2", { input: { n: 21 } })).toBe(42);
    expect(await pool.render({ url: "/x?n={{input.n}}", keep: 1 }, { input: { n: 3 } })).toEqual({
      url: "/x?n=3",
      keep: 1,
    });
    await expect(pool.evaluate("$now()", {}, { pure: true })).rejects.toThrow(/deterministic/);
    await expect(pool.evaluate("(", {})).rejects.toBeInstanceOf(TemplateError);
    // Plain paths are answered without a round trip, with the same results.
    expect(await pool.evaluate("nodes.A.output.0.x", { nodes: { A: { output: [{ x: 7 }] } } })).toBe(7);
    expect(await pool.render({ a: "{{ input.n }}", b: ["n={{input.n}}"] }, { input: { n: 3 } })).toEqual({
      a: 3,
      b: ["n=3"],
    });
    await expect(pool.evaluate("a..b", {})).rejects.toBeInstanceOf(TemplateError);
    const median = async (evaluate: (context: Record<string, unknown>) => Promise<unknown>) => {
      const times: number[] = [];
      for (let i = 0; i < 51; i++) {
        const t = performance.now();
        await evaluate({ nodes: { A: { output: { n: i } } } });
        times.push(performance.now() - t);
      }
      return times.sort((a, b) => a - b)[25];
    };
    const inline = await median((context) => evaluateExpression("nodes.A.output.n > 3", context));
    const pooled = await median((context) => pool.evaluate("nodes.A.output.n > 3", context));
    console.log(
      `evaluation latency, median: in this process ${inline.toFixed(3)} ms, in the pool ${pooled.toFixed(3)} ms`,
    );
    expect(pooled).toBeLessThan(20);
  });

  for (const [name, expression, message] of ATTACKS) {
    it(`stops ${name} without blocking this process or other callers`, async () => {
      const started = performance.now();
      // Settled from the start: its rejection is the expected outcome, checked below.
      const attack = Promise.allSettled([pool.evaluate(expression, {}, { pure: true })]).then(([r]) => r);
      // Another caller, during the attack, is answered by another process.
      await new Promise((r) => setTimeout(r, 100));
      const other = performance.now();
      expect(await pool.evaluate("1 + 1", {})).toBe(2);
      const otherMs = performance.now() - other;
      const { result: settled, lagMs } = await loopLag(attack);
      const result = (settled as PromiseFulfilledResult<PromiseSettledResult<unknown>>).value;
      const elapsed = performance.now() - started;
      console.log(
        `${name}: stopped after ${elapsed.toFixed(0)} ms; other caller ${otherMs.toFixed(1)} ms; lag ${
          lagMs.toFixed(0)
        } ms`,
      );
      expect(result.status).toBe("rejected");
      const err = (result as PromiseRejectedResult).reason;
      expect(err).toBeInstanceOf(TemplateError);
      expect(err.message).toMatch(message);
      expect(elapsed).toBeLessThan(10_000);
      // At worst the other caller waits for a fresh evaluator to boot (a busy shared machine).
      expect(otherMs).toBeLessThan(5000);
      expect(lagMs).toBeLessThan(500);
      // The pool goes on.
      expect(await pool.evaluate("2 + 3", {})).toBe(5);
    });
  }

  it("stops a memory blow-up at the heap limit", async () => {
    const expression = "$count($map([1..10000000], function($v) { $string($v) }))";
    const err = await pool.evaluate(expression, {}, { timeoutMs: 30_000 }).catch((e: Error) => e) as Error;
    expect(err).toBeInstanceOf(ExpressionLimitError);
    expect(err.message).toMatch(/more than the 64 MB/);
    expect(await pool.evaluate("1", {})).toBe(1);
  });

  it("stops an evaluation whose caller is cancelled", async () => {
    const controller = new AbortController();
    const attack = pool.evaluate('$match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /(a+)+$/)', {}, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error("the node was cancelled")), 200);
    await expect(attack).rejects.toThrow(/the node was cancelled/);
    expect(await pool.evaluate("1", {})).toBe(1);
  });

  it("lets a cancelled evaluation leave the queue without waiting for a busy process", async () => {
    const single = new ExpressionPool({ timeoutMs: 3000, memoryMb: 64, maxProcesses: 1 });
    try {
      await single.warm();
      const busy = single.evaluate('$match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /(a+)+$/)', {}).catch((e) => e);
      const controller = new AbortController();
      const queued = single.evaluate("1", {}, { signal: controller.signal });
      const started = performance.now();
      setTimeout(() => controller.abort(new Error("the node was cancelled")), 100);
      await expect(queued).rejects.toThrow(/the node was cancelled/);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(await busy).toBeInstanceOf(ExpressionLimitError);
    } finally {
      single.close();
    }
  });

  it("leaves no runaway evaluator behind when the worker is killed outright", async () => {
    // A worker process of its own, killed with SIGKILL while one of its evaluators is stuck in a regex.
    const script = `
      import { ExpressionPool } from ${JSON.stringify(new URL("./pool.ts", import.meta.url).pathname)};
      const pool = new ExpressionPool({ timeoutMs: 600000, memoryMb: 64, maxProcesses: 2 });
      await pool.warm();
      pool.evaluate('$match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /(a+)+$/)', {}).catch(() => {});
      setTimeout(() => console.log(JSON.stringify(pool.pids)), 300);
      setInterval(() => {}, 1000);`;
    // Its evaluator bundle goes in a folder this test removes (a worker killed outright cannot).
    const tmp = mkdtempSync(join(tmpdir(), "weft-pool-test-"));
    const worker = spawn("node", ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, TMPDIR: tmp },
    });
    const pids: number[] = await new Promise((resolve) => worker.stdout.once("data", (d) => resolve(JSON.parse(d))));
    expect(pids.length).toBeGreaterThanOrEqual(2);
    worker.kill("SIGKILL");
    const alive = () =>
      pids.filter((pid) => {
        try {
          return process.kill(pid, 0);
        } catch {
          return false;
        }
      });
    const deadline = Date.now() + 5000;
    while (alive().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    rmSync(tmp, { recursive: true, force: true });
    expect(alive()).toEqual([]);
  });
});
