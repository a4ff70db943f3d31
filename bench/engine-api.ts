/** The Weft HTTP API as bench/engine.ts drives it: log in, build graphs of http_request nodes, run them. */

export const FINAL = new Set(["succeeded", "failed", "cancelled"]);

export interface RunView {
  status: string;
  /** When the run's final status was written (PostgreSQL's clock, this machine's). */
  finished_at?: string | null;
  node_executions: { node_name: string; status: string; duration_ms: number | null }[];
}

export class WeftApi {
  private token = "";
  /** The last execute?wait answer's Server-Timing phases (start, wait, read) in ms. */
  serverTiming: Record<string, number> = {};
  /** Requests made, by kind, so the load bench can report what the API served. */
  readonly counts = { execute: 0, poll: 0 };
  constructor(readonly base: string) {}

  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.base + path, {
      method,
      headers: { "content-type": "application/json", ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  async login(email: string, password: string) {
    await this.call("POST", "/api/auth/register", { email, password }).catch(() => {/* already there */});
    this.token = (await this.call<{ access_token: string }>("POST", "/api/auth/login", { email, password }))
      .access_token;
  }

  /**
   * Creates a workflow of http_request nodes all calling `url`; `edges` are pairs of node names. Each node has a
   * 5 s timeout (a short call, as these are), so it runs as a local activity
   * (core/node-execution.ts); BENCH_DURABLE_STEP=1 makes every node a regular activity instead.
   */
  async createGraph(name: string, nodes: string[], edges: [string, string][], url: string, maxParallel?: number) {
    const wf = await this.call<{ id: string }>("POST", "/api/workflows", {
      name,
      ...(maxParallel ? { max_parallel: maxParallel } : {}),
    });
    const ids = new Map<string, string>();
    for (const node of nodes) {
      const created = await this.call<{ id: string }>("POST", `/api/workflows/${wf.id}/nodes`, {
        name: node,
        type: "http_request",
        config: NODE_CONFIG(url),
      });
      ids.set(node, created.id);
    }
    for (const [from, to] of edges) {
      await this.call("POST", `/api/workflows/${wf.id}/edges`, {
        source_node_id: ids.get(from),
        target_node_id: ids.get(to),
      });
    }
    return wf.id;
  }

  async execute(workflowId: string) {
    this.counts.execute++;
    const run = await this.call<{ run_id: string; temporal?: { workflow_id?: string } }>(
      "POST",
      `/api/workflows/${workflowId}/execute`,
      { input: {} },
    );
    return { runId: run.run_id, temporalWorkflowId: run.temporal?.workflow_id ?? `weft-run-${run.run_id}` };
  }

  getRun(workflowId: string, runId: string, waitSeconds = 0) {
    this.counts.poll++;
    return this.call<RunView>(
      "GET",
      `/api/workflows/${workflowId}/runs/${runId}${waitSeconds ? `?wait=${waitSeconds}` : ""}`,
    );
  }

  /**
   * One request per run: POST execute?wait=N, answered with the finished run (200); a run still going after N s
   * (202) is then asked for with GET ?wait until final.
   */
  async executeWait(workflowId: string, seconds = 30): Promise<RunView> {
    this.counts.execute++;
    const res = await fetch(`${this.base}/api/workflows/${workflowId}/execute?wait=${seconds}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
      body: '{"input":{}}',
    });
    const text = await res.text();
    this.serverTiming = Object.fromEntries(
      (res.headers.get("server-timing") ?? "").split(",").map((p) => /^\s*(\w+);dur=([\d.]+)/.exec(p))
        .filter((m) => m !== null).map((m) => [m[1], Number(m[2])]),
    );
    if (res.status === 200) return JSON.parse(text) as RunView;
    if (res.status !== 202) throw new Error(`execute?wait answered ${res.status}: ${text.slice(0, 300)}`);
    return await this.waitEnd(workflowId, (JSON.parse(text) as { run_id: string }).run_id);
  }

  /** Creates (or rotates) the workflow's webhook; its path, `/api/hooks/<token>`. */
  async hook(workflowId: string): Promise<string> {
    return (await this.call<{ url_path: string }>("POST", `/api/workflows/${workflowId}/hook`)).url_path;
  }

  /** Asks for the run with `?wait=30` (the API answers when it ends) until it is final; returns the last view. */
  async waitEnd(workflowId: string, runId: string, timeoutMs = 120_000) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const run = await this.getRun(workflowId, runId, 30);
      if (FINAL.has(run.status) || Date.now() > until) return run;
    }
  }

  /** Polls the run every `pollMs` until it is final; returns the last view. */
  async waitFinal(workflowId: string, runId: string, pollMs: number, timeoutMs = 120_000) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const run = await this.getRun(workflowId, runId);
      if (FINAL.has(run.status) || Date.now() > until) return run;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}

export const chain = (n: number) => ({
  nodes: Array.from({ length: n }, (_, i) => `n${i + 1}`),
  edges: Array.from({ length: n - 1 }, (_, i) => [`n${i + 1}`, `n${i + 2}`] as [string, string]),
});

/** One start node and `n` nodes that each depend only on it. */
export const fanOut = (n: number) => ({
  nodes: ["start", ...Array.from({ length: n }, (_, i) => `leaf${i + 1}`)],
  edges: Array.from({ length: n }, (_, i) => ["start", `leaf${i + 1}`] as [string, string]),
});

const NODE_CONFIG = (url: string) => ({
  url,
  method: "GET",
  timeout_ms: 5000,
  ...(process.env.BENCH_DURABLE_STEP === "1" ? { durable_step: true } : {}),
});
