/**
 * The API test harness: one call in a test file's top level gives it the app on the real stack, two users (alice
 * and bob, the owner and the other owner), optionally a local upstream server, and helpers that create workflows
 * and run them. Every field is filled in by the harness's `beforeAll`, so tests read them inside `it`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { afterAll, beforeAll } from "vitest";
import type { WeftApp } from "../api/app.ts";
import { type GpuWorker, startGpuWorker } from "./gpu-worker.ts";
import {
  type ApiResponse,
  buildWorkflow,
  call,
  registerUser,
  setupApp,
  startUpstream,
  type TestContext,
  type Upstream,
  waitForRun,
} from "./helpers.ts";

export type TestUser = Awaited<ReturnType<typeof registerUser>>;
export type UpstreamHandler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
type CallOptions = Parameters<typeof call>[3];
type GraphNode = Parameters<typeof buildWorkflow>[2][number];

export interface ApiHarness extends TestContext {
  /** The owner in most tests. */
  alice: TestUser;
  /** Another owner: alice's resources are 404s to him. */
  bob: TestUser;
  /** The local server the nodes call; only when the harness was given a handler. */
  upstream: Upstream;
  /** A worker on a GPU queue of its own that the app sends GPU nodes to; only with `gpu: true`. */
  gpu: GpuWorker;
  /** A request to the app; `options.token` defaults to nobody (no authorization header). */
  call: (method: string, path: string, options?: CallOptions) => Promise<ApiResponse>;
  /** Creates an empty workflow as `user` (alice) and returns its id. */
  createWorkflow: (body?: Record<string, unknown>, user?: TestUser) => Promise<string>;
  /** Creates a workflow of `nodes` (http_request unless typed), chained in order or wired by `edges`. */
  buildWorkflow: (
    nodes: GraphNode[],
    edges?: [string, string][],
    user?: TestUser,
  ) => ReturnType<typeof buildWorkflow>;
  /** POST …/execute as `user` (alice). */
  execute: (workflowId: string, input?: unknown, user?: TestUser) => Promise<ApiResponse>;
  /** Adds `documents` to a vector collection as `user` (alice) and waits for the ingestion to end; its last state. */
  ingest: (
    collectionId: string,
    documents: unknown[],
    user?: TestUser,
    timeoutMs?: number,
  ) => Promise<ApiResponse["body"]>;
  /** Executes and waits for the run to end; the run as GET …/runs/{id} answers it. */
  runToEnd: (workflowId: string, input?: unknown, user?: TestUser, timeoutMs?: number) => Promise<ApiResponse["body"]>;
}

export interface HarnessOptions {
  /** Settings for this file's app on top of the test defaults (`setupApp`); a function is read in `beforeAll`,
   * after the file's own earlier hooks (a worker on a queue of its own, say). */
  env?: Record<string, string> | (() => Record<string, string>);
  /** Answers the upstream server's requests; without it, no upstream is started. */
  upstream?: UpstreamHandler;
  /** Starts a GPU-queue worker (fixture models) for this file's app. */
  gpu?: boolean;
  /** Email prefixes of the two users (default "alice", "bob"). */
  names?: [string, string];
}

/** Registers the file's `beforeAll`/`afterAll` and returns the harness they fill in. */
export function useApiHarness(options: HarnessOptions = {}): ApiHarness {
  const h = {} as ApiHarness;
  const app = (): WeftApp => h.app;
  beforeAll(async () => {
    if (options.gpu) h.gpu = await startGpuWorker();
    const env = typeof options.env === "function" ? options.env() : options.env;
    Object.assign(h, await setupApp(options.gpu ? { WEFT_GPU_TASK_QUEUE: h.gpu.queue, ...env } : env));
    const [a, b] = options.names ?? ["alice", "bob"];
    [h.alice, h.bob] = await Promise.all([registerUser(app(), a), registerUser(app(), b)]);
    if (options.upstream) h.upstream = await startUpstream(options.upstream);
  });
  afterAll(async () => {
    await h.upstream?.close();
    await h.gpu?.stop();
  });
  h.call = (method, path, callOptions) => call(app(), method, path, callOptions);
  h.createWorkflow = async (body = { name: `wf-${Date.now()}` }, user = h.alice) => {
    const res = await call(app(), "POST", "/api/workflows", { token: user.token, body });
    if (res.status !== 201) throw new Error(`workflow: ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  };
  h.buildWorkflow = (nodes, edges, user = h.alice) => buildWorkflow(app(), user.token, nodes, edges);
  h.execute = (workflowId, input = {}, user = h.alice) =>
    call(app(), "POST", `/api/workflows/${workflowId}/execute`, { token: user.token, body: { input } });
  h.ingest = async (collectionId, documents, user = h.alice, timeoutMs = 60_000) => {
    const path = `/api/vectors/collections/${collectionId}`;
    const added = await call(app(), "POST", `${path}/documents`, { token: user.token, body: { documents } });
    if (added.status !== 202) throw new Error(`ingest: ${added.status} ${JSON.stringify(added.body)}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await call(app(), "GET", `${path}/ingestions/${added.body.ingestion_id}`, { token: user.token });
      if (res.body.status === "succeeded" || res.body.status === "failed") return res.body;
      if (Date.now() > deadline) throw new Error(`ingestion did not finish: ${JSON.stringify(res.body)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  h.runToEnd = async (workflowId, input = {}, user = h.alice, timeoutMs) => {
    const started = await h.execute(workflowId, input, user);
    if (started.status !== 202) throw new Error(`execute: ${started.status} ${JSON.stringify(started.body)}`);
    return await waitForRun(app(), user.token, workflowId, started.body.run_id, timeoutMs);
  };
  return h;
}
