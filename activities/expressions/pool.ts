/**
 * Users' expressions (edge conditions, transforms, `{{ }}` templates) run in a pool of child processes, each
 * with a V8 heap limit, and are killed when they overrun their time: a catastrophic regex, an endless
 * recursion or a memory blow-up costs one child process, never the worker's event loop or its life. A spare
 * process is kept warm so the common case is one IPC round trip.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSync } from "esbuild";
import { z } from "zod";
import { evaluateExpression, renderTemplate, TemplateError, templateSpans } from "../../core/template.ts";
import type { EvaluationReply, EvaluationRequest, EvaluationTask } from "./protocol.ts";

export interface ExpressionLimits {
  /** How long one evaluation may run unless its caller says otherwise (transform's timeout_ms). */
  timeoutMs: number;
  /** Each evaluator process's V8 heap limit. */
  memoryMb: number;
  /** Evaluations at once; more wait for a free process. */
  maxProcesses: number;
}

export const DEFAULT_EXPRESSION_LIMITS: ExpressionLimits = { timeoutMs: 5000, memoryMb: 128, maxProcesses: 4 };

export const expressionEnv = {
  /** How long an edge condition or `{{ }}` template may run; a transform's own timeout_ms wins for it. */
  WEFT_EXPRESSION_TIMEOUT_MS: z.coerce.number().int().min(10).max(3_600_000).default(5000),
  /** The heap limit of each process that evaluates expressions. */
  WEFT_EXPRESSION_MEMORY_MB: z.coerce.number().int().min(16).max(16_384).default(128),
  /** Expressions evaluated at once, each in its own process; more wait for one. */
  WEFT_EXPRESSION_MAX_PROCESSES: z.coerce.number().int().min(1).max(256).default(4),
};

/** The environment of the processes running users' code: nothing of the worker's (database URLs, keys). */
const BARE_ENV = { PATH: "/usr/bin:/bin", NODE_ENV: "production" };

/** An expression stopped by its time or memory bound. */
export class ExpressionLimitError extends TemplateError {
  constructor(message: string, template: string) {
    super(message, template);
    this.name = "ExpressionLimitError";
  }
}

type Job = {
  request: EvaluationTask;
  label: string;
  timeoutMs: number;
  signal?: AbortSignal;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  dequeued?: () => void;
};

type Evaluator = { child: ChildProcess; ready: Promise<void>; job: Job | null; stderr: string; idleSince: number };

const ENTRY = new URL("./evaluator-process.ts", import.meta.url).pathname;

/**
 * The evaluator as one plain JavaScript file, bundled once per worker: it boots in about a third of the time
 * it takes through tsx (which matters each time a stopped process is replaced). Falls back to tsx.
 */
function evaluatorProgram(): { entry: string; execArgv: string[]; cleanup: () => void } {
  try {
    // A fresh private directory: nothing else can have put a file (or a link) where the bundle goes.
    const dir = mkdtempSync(join(tmpdir(), "weft-expressions-"));
    const outfile = join(dir, "evaluator.mjs");
    buildSync({ entryPoints: [ENTRY], bundle: true, platform: "node", format: "esm", outfile, logLevel: "silent" });
    return { entry: outfile, execArgv: [], cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } catch {
    const tsx = createRequire(import.meta.url).resolve("tsx");
    return { entry: ENTRY, execArgv: ["--import", tsx], cleanup: () => {} };
  }
}
/**
 * A plain path (`input.city`, `nodes.search.output.results.0.text`): no functions, regexes or operators, so its
 * cost is bounded by the context it walks. The common template, evaluated here without a round trip.
 */
const PLAIN_PATH = /^\s*[A-Za-z_][A-Za-z0-9_]*(\s*\.\s*[A-Za-z0-9_]+)*\s*$/;

function onlyPlainPaths(value: unknown): boolean {
  if (typeof value === "string") return [...templateSpans(value)].every((s) => PLAIN_PATH.test(s.expression));
  if (Array.isArray(value)) return value.every(onlyPlainPaths);
  if (value && typeof value === "object") return Object.values(value).every(onlyPlainPaths);
  return true;
}

/** Idle processes above the warm ones are stopped after this long. */
const IDLE_MS = 60_000;
const WARM = 2;

export class ExpressionPool {
  #evaluators = new Set<Evaluator>();
  #queue: Job[] = [];
  #nextId = 1;
  #closed = false;
  #reaper: ReturnType<typeof setInterval> | undefined;
  #program: ReturnType<typeof evaluatorProgram> | undefined;

  /** `childEnv`: the evaluators' whole environment (the worker passes its PATH and NODE_ENV, nothing else). */
  constructor(
    readonly limits: ExpressionLimits = DEFAULT_EXPRESSION_LIMITS,
    private readonly childEnv: Record<string, string> = BARE_ENV,
  ) {}

  /** The evaluator processes' pids (for operators' diagnostics and tests). */
  get pids(): number[] {
    return [...this.#evaluators].map((e) => e.child.pid!).filter(Boolean);
  }

  /** Starts the warm processes now, so the first evaluations do not wait for one to boot. */
  async warm(): Promise<void> {
    while (this.#evaluators.size < Math.min(WARM, this.limits.maxProcesses)) this.#spawn();
    await Promise.all([...this.#evaluators].map((e) => e.ready));
  }

  /** A bare expression (an edge condition, a transform); `pure` refuses $now(), $millis() and $random(). */
  evaluate(
    expression: string,
    context: Record<string, unknown>,
    options: { pure?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<unknown> {
    if (PLAIN_PATH.test(expression)) return evaluateExpression(expression, context);
    const request = { op: "expression" as const, expression, context, pure: options.pure ?? false };
    const shown = expression.length > 120 ? `${expression.slice(0, 120)}…` : expression;
    return this.#submit(request, `expression "${shown}"`, options.timeoutMs, options.signal);
  }

  /** Every `{{ }}` template inside a JSON value (a node's config, an approval message). */
  render(value: unknown, context: Record<string, unknown>, options: { timeoutMs?: number } = {}): Promise<unknown> {
    if (!JSON.stringify(value ?? null).includes("{{")) return Promise.resolve(value);
    if (onlyPlainPaths(value)) return renderTemplate(value, context);
    return this.#submit({ op: "template", value, context }, "template", options.timeoutMs);
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#reaper);
    for (const e of this.#evaluators) this.#stop(e);
    for (const job of this.#queue.splice(0)) job.reject(new Error("the expression pool is closed"));
    this.#program?.cleanup();
  }

  #submit(request: Job["request"], label: string, timeoutMs = this.limits.timeoutMs, signal?: AbortSignal) {
    return new Promise<unknown>((resolve, reject) => {
      if (this.#closed) return reject(new Error("the expression pool is closed"));
      if (signal?.aborted) return reject(signal.reason);
      const job: Job = { request, label, timeoutMs, signal, resolve, reject };
      // Cancelled while it waits for a process: it leaves the queue (#run takes over once it has one).
      const leave = () => {
        const at = this.#queue.indexOf(job);
        if (at < 0) return;
        this.#queue.splice(at, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", leave, { once: true });
      job.dequeued = () => signal?.removeEventListener("abort", leave);
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#queue.length) {
      let idle = [...this.#evaluators].find((e) => !e.job);
      if (!idle && this.#evaluators.size < this.limits.maxProcesses) idle = this.#spawn();
      if (!idle) return;
      this.#run(idle, this.#queue.shift()!);
    }
    // Keep the warm ones and one spare booted while there is room, so the next caller does not wait for a start.
    const max = this.limits.maxProcesses;
    while (this.#evaluators.size < Math.min(WARM, max)) this.#spawn();
    const busy = [...this.#evaluators].filter((e) => e.job).length;
    if (this.#evaluators.size - busy < 1 && this.#evaluators.size < max) this.#spawn();
  }

  #run(evaluator: Evaluator, job: Job): void {
    job.dequeued?.();
    evaluator.job = job;
    const id = this.#nextId++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (settle: () => void) => {
      if (evaluator.job !== job) return;
      clearTimeout(timer);
      job.signal?.removeEventListener("abort", onAbort);
      evaluator.child.off("message", onMessage);
      evaluator.child.off("exit", onExit);
      evaluator.job = null;
      evaluator.idleSince = Date.now();
      settle();
      this.#dispatch();
    };
    // A stopped evaluation takes its process with it; a fresh one replaces it.
    const kill = (err: Error) =>
      finish(() => {
        this.#stop(evaluator);
        job.reject(err);
      });
    const onMessage = (reply: EvaluationReply) => {
      if (!("id" in reply) || reply.id !== id) return;
      finish(() =>
        reply.ok ? job.resolve(reply.value) : job.reject(
          reply.template ? new TemplateError(reply.message, job.label) : new Error(reply.message),
        )
      );
    };
    const onExit = (code: number | null, signal: string | null) => {
      // V8 aborts a process that reaches its heap limit.
      const oom = signal === "SIGABRT" || /heap out of memory|Allocation failed/i.test(evaluator.stderr);
      kill(
        new ExpressionLimitError(
          oom
            ? `${job.label} stopped: it used more than the ${this.limits.memoryMb} MB of memory an expression may use`
            : `${job.label} stopped: its evaluator exited (${signal ?? `code ${code}`})`,
          job.label,
        ),
      );
    };
    const onAbort = () => kill(job.signal!.reason instanceof Error ? job.signal!.reason : new Error("cancelled"));
    evaluator.child.on("message", onMessage);
    evaluator.child.on("exit", onExit);
    job.signal?.addEventListener("abort", onAbort);
    // The clock starts once the process is ready: a cold start is not the expression's time.
    evaluator.ready.then(() => {
      if (evaluator.job !== job) return;
      timer = setTimeout(
        () =>
          kill(
            new ExpressionLimitError(`${job.label} stopped: it ran longer than ${job.timeoutMs} ms`, job.label),
          ),
        job.timeoutMs,
      );
      evaluator.child.send({ ...job.request, id } as EvaluationRequest);
    }, (err: Error) => kill(new Error(`the expression evaluator did not start: ${err.message}`)));
  }

  #spawn(): Evaluator {
    const program = this.#program ??= evaluatorProgram();
    const child = fork(program.entry, [], {
      execArgv: [...program.execArgv, `--max-old-space-size=${this.limits.memoryMb}`, "--max-semi-space-size=4"],
      // Structured clone keeps values exact (no JSON re-encoding) and is what the evaluator returns.
      serialization: "advanced",
      env: this.childEnv,
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    const evaluator: Evaluator = { child, job: null, stderr: "", idleSince: Date.now(), ready: null! };
    child.stderr!.on("data", (chunk: Buffer) => {
      evaluator.stderr = (evaluator.stderr + chunk.toString()).slice(-4000);
    });
    evaluator.ready = new Promise<void>((resolve, reject) => {
      child.once("message", () => resolve());
      child.once(
        "exit",
        (code, signal) => reject(new Error(`exited (${signal ?? `code ${code}`}) ${evaluator.stderr}`)),
      );
      child.once("error", reject);
    });
    evaluator.ready.catch(() => {});
    child.on("exit", () => this.#evaluators.delete(evaluator));
    child.on("error", () => {}); // reported through `exit` or `ready`
    // The pool must not keep a draining worker alive.
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    this.#evaluators.add(evaluator);
    this.#reaper ??= setInterval(() => this.#reap(), IDLE_MS / 2);
    (this.#reaper as { unref?: () => void }).unref?.();
    return evaluator;
  }

  #stop(evaluator: Evaluator): void {
    this.#evaluators.delete(evaluator);
    evaluator.child.kill("SIGKILL");
    if (!this.#closed) this.#dispatch();
  }

  /** Stops processes idle for a while beyond the warm ones. */
  #reap(): void {
    const idle = [...this.#evaluators].filter((e) => !e.job && Date.now() - e.idleSince > IDLE_MS);
    for (const e of idle.slice(0, Math.max(0, this.#evaluators.size - WARM))) this.#stop(e);
  }
}
