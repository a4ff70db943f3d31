/**
 * Test helpers: the API app in-process on the real database and Temporal, users, a local upstream server. The
 * app reaches Temporal as the API process does, over its HTTP API; tests inspect Temporal with the SDK's client.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Client, Connection } from "@temporalio/client";
import { afterAll } from "vitest";
import { createApp, type WeftApp } from "../api/app.ts";
import { loadConfig } from "../api/config.ts";
import { createLogger } from "../api/logger.ts";
import { RunEventHub } from "../api/runs/event-hub.ts";
import { TemporalHttpClient } from "../api/temporal/http.ts";
import { weftDataConverter } from "../core/payload-codec.ts";
import { connect, type Sql } from "../db/client.ts";
import { payloadTenantKeys } from "../db/payload-keys.ts";
import {
  TEST_DATABASE_URL,
  TEST_JWT_SECRET,
  TEST_PAYLOAD_KEY,
  TEST_SECRETS_KEY,
  TEST_TASK_QUEUE,
  TEST_TEMPORAL_ADDRESS,
  TEST_TEMPORAL_HTTP_URL,
} from "./env.ts";
import { isFinalRunStatus } from "../core/contract.ts";

export interface TestContext {
  app: WeftApp;
  sql: Sql;
  /** The SDK's gRPC client, for tests to look into Temporal (histories, descriptions); the app does not use it. */
  temporal: Client;
  /** What the app calls Temporal with: the HTTP API client. */
  temporalHttp: TemporalHttpClient;
  /** The app's run-event hub (its SSE streams and `?wait` reads). */
  events: RunEventHub;
}

/** The API's settings on the test stack, `env` on top. */
export function testApiConfig(env: Record<string, string> = {}) {
  return loadConfig({
    DATABASE_URL: TEST_DATABASE_URL,
    TEMPORAL_ADDRESS: TEST_TEMPORAL_ADDRESS,
    WEFT_TASK_QUEUE: TEST_TASK_QUEUE,
    JWT_SECRET: TEST_JWT_SECRET,
    WEFT_SECRETS_KEY: TEST_SECRETS_KEY,
    LOG_REQUESTS: "false",
    // In-process requests have no client address: every test file's failed logins share one bucket.
    LOGIN_MAX_FAILURES_PER_ADDRESS: "1000000",
    ...env,
  });
}

/** One app per test file, closed after the file's tests. */
export async function setupApp(env: Record<string, string> = {}): Promise<TestContext> {
  const config = testApiConfig(env);
  const sql = connect(config.DATABASE_URL, { max: 5 });
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const payloadEnv = { WEFT_PAYLOAD_KEY: TEST_PAYLOAD_KEY };
  const dataConverter = await weftDataConverter(payloadEnv, await payloadTenantKeys(sql, payloadEnv));
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });
  const temporalHttp = new TemporalHttpClient({
    url: TEST_TEMPORAL_HTTP_URL,
    namespace: config.TEMPORAL_NAMESPACE,
    codec: dataConverter?.payloadCodecs[0],
  });
  const logger = createLogger({ test: true }, "warn");
  const events = new RunEventHub(sql, logger);
  const app = createApp({
    config,
    sql,
    temporal: temporalHttp,
    logger,
    codec: dataConverter?.payloadCodecs[0],
    events,
  });
  afterAll(async () => {
    await sql.end();
    await connection.close();
  });
  return { app, sql, temporal, temporalHttp, events };
}

// Responses are arbitrary JSON that each test inspects as it needs.
// deno-lint-ignore no-explicit-any
export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

// deno-lint-ignore no-explicit-any
export async function call<T = any>(
  app: WeftApp,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
  const res = await app.request(path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch { /* not JSON */ }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** A JSON request to a real API process at `base` over HTTP: what `call` is to the in-process app. */
// deno-lint-ignore no-explicit-any
export async function fetchJson<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  init: RequestInit = {},
): Promise<ApiResponse<T>> {
  const res = await fetch(base + path, {
    ...init,
    method,
    headers: {
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json().catch(() => null) };
}

let userSeq = 0;
export async function registerUser(app: WeftApp, prefix = "user") {
  const email = `${prefix}-${Date.now()}-${process.pid}-${userSeq++}@example.com`;
  const password = "correct horse battery";
  const reg = await call(app, "POST", "/api/auth/register", { body: { email, password, full_name: "Test User" } });
  if (reg.status !== 201) throw new Error(`register failed: ${JSON.stringify(reg.body)}`);
  const login = await call(app, "POST", "/api/auth/login", { body: { email, password } });
  if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
  return { email, password, id: reg.body.id as string, token: login.body.access_token as string };
}

/** Creates a workflow with the given http_request nodes chained in order (or wired by `edges`). */
export async function buildWorkflow(
  app: WeftApp,
  token: string,
  nodes: { name: string; config: Record<string, unknown>; type?: string }[],
  edges?: [string, string][],
) {
  const wf = await call(app, "POST", "/api/workflows", { token, body: { name: `wf-${Date.now()}` } });
  const ids: Record<string, string> = {};
  for (const n of nodes) {
    const res = await call(app, "POST", `/api/workflows/${wf.body.id}/nodes`, {
      token,
      body: { name: n.name, type: n.type ?? "http_request", config: n.config },
    });
    if (res.status !== 201) throw new Error(`node ${n.name}: ${JSON.stringify(res.body)}`);
    ids[n.name] = res.body.id;
  }
  const pairs = edges ?? nodes.slice(1).map((n, i) => [nodes[i].name, n.name] as [string, string]);
  for (const [a, b] of pairs) {
    const res = await call(app, "POST", `/api/workflows/${wf.body.id}/edges`, {
      token,
      body: { source_node_id: ids[a], target_node_id: ids[b] },
    });
    if (res.status !== 201) throw new Error(`edge ${a}->${b}: ${JSON.stringify(res.body)}`);
  }
  return { workflowId: wf.body.id as string, nodeIds: ids };
}

export async function waitForRun(app: WeftApp, token: string, workflowId: string, runId: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(app, "GET", `/api/workflows/${workflowId}/runs/${runId}`, { token });
    if (isFinalRunStatus(res.body.status)) return res.body;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${res.body.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Reads until `ok` holds (every 100 ms, 30 s at most); the last value read. */
export async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("timed out waiting");
}

/** A Temporal failure as tests walk it: each failure's message and type, then its cause. */
export interface FailureChain {
  message: string;
  type?: string;
  cause?: FailureChain;
}

export interface Upstream {
  url: string;
  requests: { method: string; url: string; body: string; headers: IncomingMessage["headers"]; at: number }[];
  close: () => Promise<void>;
}

/** A local HTTP server: `handler` answers each request; every request is recorded. */
export async function startUpstream(
  handler: (req: IncomingMessage, body: string, res: ServerResponse) => void,
): Promise<Upstream> {
  const requests: Upstream["requests"] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests.push({ method: req.method!, url: req.url!, body, headers: req.headers, at: Date.now() });
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(value));
}

/** Temporal's final status of a workflow; the database may record a run's end a moment before Temporal does. */
export async function temporalFinalStatus(temporal: Client, workflowId: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const description = await temporal.workflow.getHandle(workflowId).describe();
    if (description.status.name !== "RUNNING" || Date.now() > deadline) return description;
    await new Promise((r) => setTimeout(r, 50));
  }
}
