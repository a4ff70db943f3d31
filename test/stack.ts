/**
 * A private stack for the durability tests: a Temporal dev server with a persistent database file (so it can be
 * stopped and started again), Deno API processes and Node worker processes on a task queue of their own.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { connect as tcpConnect, createServer } from "node:net";
import { TEST_TEMPORAL_PORT } from "./env.ts";
import { type Spawned, startDenoApi, startWorker } from "./processes.ts";
import { isFinalRunStatus } from "../core/contract.ts";

/** Port of the durability suite's own dev server: 50 above the global one, so parallel runs stay apart. */
export const DURABILITY_TEMPORAL_PORT = Number(process.env.WEFT_DURABILITY_TEMPORAL_PORT ?? TEST_TEMPORAL_PORT + 50);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value other than undefined/false; throws `what` (and a detail) on timeout. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  everyMs = 100,
  detail: () => string = () => "",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ""}\n${detail()}`,
      );
    }
    await sleep(everyMs);
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: "127.0.0.1", port });
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}

export const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

function alive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A Temporal dev server started by scripts/temporal-dev.sh with a database file, stoppable by its pid file. */
export class TemporalDevServer {
  readonly address: string;
  readonly dbFile: string;
  private readonly pidFile: string;
  private pid: number | undefined;

  constructor(readonly port = DURABILITY_TEMPORAL_PORT) {
    this.address = `127.0.0.1:${port}`;
    this.dbFile = `.state/temporal/durability-${port}.db`;
    this.pidFile = `.state/temporal/server-${port}.pid`;
  }

  /** Deletes the database file (and SQLite's side files): only while no server of ours runs. */
  deleteDb() {
    for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(this.dbFile + suffix, { force: true });
  }

  /** Starts the server on the existing database file (a fresh one if deleted); refuses a server it did not start. */
  start() {
    const said = execFileSync("bash", ["scripts/temporal-dev.sh", String(this.port), "", this.dbFile]).toString();
    if (!said.includes("dev server ready")) {
      throw new Error(`a Temporal server we did not start already answers on ${this.address}: ${said.trim()}`);
    }
    this.pid = Number(readFileSync(this.pidFile, "utf8"));
  }

  get running() {
    return this.pid !== undefined && alive(this.pid);
  }

  /** SIGTERM by pid; waits for the process to exit and the port to close (SIGKILL after `graceMs`). */
  async stop(graceMs = 20_000) {
    const pid = this.pid;
    if (pid === undefined) return;
    try {
      process.kill(pid, "SIGTERM");
    } catch { /* already gone */ }
    const deadline = Date.now() + graceMs;
    while (alive(pid) && Date.now() < deadline) await sleep(100);
    if (alive(pid)) {
      process.kill(pid, "SIGKILL");
      // Bounded: an unreaped zombie would answer kill(pid, 0) forever; the port closing is what counts.
      for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
    }
    await waitFor(`port ${this.port} to close`, async () => !(await portOpen(this.port)), 10_000);
    this.pid = undefined;
  }

  logTail(chars = 3000) {
    const log = `.state/temporal/server-${this.port}.log`;
    return existsSync(log) ? readFileSync(log, "utf8").slice(-chars) : "";
  }
}

/** Every process the suite spawned, so afterAll can stop them all even when a test failed half-way. */
export class ProcessSet {
  private readonly all = new Set<Spawned>();

  track(p: Spawned) {
    this.all.add(p);
    p.proc.once("exit", () => this.all.delete(p));
    return p;
  }

  /** SIGTERM each, SIGKILL whatever is still there after `graceMs`. */
  async stopAll(graceMs = 10_000) {
    await Promise.all([...this.all].map((p) => stopWithin(p, graceMs)));
  }
}

export async function stopWithin(p: Spawned, graceMs: number, signal: NodeJS.Signals = "SIGTERM") {
  const exited = p.stop(signal);
  const timedOut = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
  if (timedOut) await p.stop("SIGKILL");
}

/** SIGKILL, then wait for the exit. */
export const kill9 = (p: Spawned) => p.stop("SIGKILL");

/** The Deno API on `port`, run by the Deno binary itself so that a signal reaches the process that listens. */
export function startApi(port: number, taskQueue: string, temporalAddress: string): Promise<Spawned> {
  return startDenoApi(port, taskQueue, { TEMPORAL_ADDRESS: temporalAddress, LOG_REQUESTS: "false" });
}

/** A Node worker on `taskQueue` against `temporalAddress` (test/processes.ts's startWorker). */
export const startQueueWorker = (taskQueue: string, temporalAddress: string) =>
  startWorker(taskQueue, { TEMPORAL_ADDRESS: temporalAddress });

// Responses are arbitrary JSON that each test inspects as it needs.
// deno-lint-ignore no-explicit-any
export type Json = any;

/** A small client of a running API process over HTTP. */
export class ApiClient {
  token = "";
  constructor(readonly base: string) {}

  async request(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    const res = await fetch(this.base + path, {
      method,
      headers: {
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Json = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch { /* not JSON */ }
    return { status: res.status, body: parsed };
  }

  /** Registers a fresh user and keeps its token for later requests. */
  async login(prefix: string) {
    const email = `${prefix}-${Date.now()}-${process.pid}@example.com`;
    const password = "durable password";
    const reg = await this.request("POST", "/api/auth/register", { email, password });
    if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
    const login = await this.request("POST", "/api/auth/login", { email, password });
    if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
    this.token = login.body.access_token;
  }

  /** A workflow of `http_request` nodes chained in order; returns its id. */
  async chain(name: string, nodes: { name: string; config: Record<string, unknown> }[]): Promise<string> {
    const wf = await this.request("POST", "/api/workflows", { name });
    if (wf.status !== 201) throw new Error(`workflow: ${wf.status} ${JSON.stringify(wf.body)}`);
    const ids: string[] = [];
    for (const n of nodes) {
      const res = await this.request("POST", `/api/workflows/${wf.body.id}/nodes`, { ...n, type: "http_request" });
      if (res.status !== 201) throw new Error(`node ${n.name}: ${res.status} ${JSON.stringify(res.body)}`);
      ids.push(res.body.id);
    }
    for (let i = 1; i < ids.length; i++) {
      const res = await this.request("POST", `/api/workflows/${wf.body.id}/edges`, {
        source_node_id: ids[i - 1],
        target_node_id: ids[i],
      });
      if (res.status !== 201) throw new Error(`edge ${i}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return wf.body.id;
  }

  /** One start node and `members` after it, all `http_request`: the members run as one group. */
  async fanOut(
    name: string,
    start: { name: string; config: Record<string, unknown> },
    members: { name: string; config: Record<string, unknown> }[],
  ): Promise<string> {
    const wf = await this.request("POST", "/api/workflows", { name });
    if (wf.status !== 201) throw new Error(`workflow: ${wf.status} ${JSON.stringify(wf.body)}`);
    const ids: string[] = [];
    for (const n of [start, ...members]) {
      const res = await this.request("POST", `/api/workflows/${wf.body.id}/nodes`, { ...n, type: "http_request" });
      if (res.status !== 201) throw new Error(`node ${n.name}: ${res.status} ${JSON.stringify(res.body)}`);
      ids.push(res.body.id);
    }
    for (const target of ids.slice(1)) {
      const res = await this.request("POST", `/api/workflows/${wf.body.id}/edges`, {
        source_node_id: ids[0],
        target_node_id: target,
      });
      if (res.status !== 201) throw new Error(`edge: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return wf.body.id;
  }

  async execute(workflowId: string, input: Record<string, unknown> = {}) {
    return await this.request("POST", `/api/workflows/${workflowId}/execute`, { input });
  }

  async getRun(workflowId: string, runId: string) {
    return await this.request("GET", `/api/workflows/${workflowId}/runs/${runId}`);
  }

  /** Polls GET run until the API reports a final status; request errors (a process restarting) are retried. */
  async waitForFinal(workflowId: string, runId: string, timeoutMs: number, detail?: () => string): Promise<Json> {
    return await waitFor(
      `run ${runId} to finish`,
      async () => {
        const res = await this.getRun(workflowId, runId);
        return res.status === 200 && isFinalRunStatus(res.body.status) ? res.body : undefined;
      },
      timeoutMs,
      200,
      detail,
    );
  }
}
