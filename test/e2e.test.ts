/**
 * End to end, as a client sees it: the real Deno API process and a real Node worker process, over HTTP,
 * against the test Temporal dev server and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchJson, json, startUpstream, type Upstream } from "./helpers.ts";
import { type Spawned, startDenoApi, startWorker } from "./processes.ts";
import { freePort } from "./stack.ts";

const QUEUE = "weft-e2e";
let api: Spawned;
let worker: Spawned;
let upstream: Upstream;
let base: string;

const http = (method: string, path: string, body?: unknown, token?: string) =>
  fetchJson(base, method, path, body, token);

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  upstream = await startUpstream((req, body, res) => {
    const url = new URL(req.url!, "http://x");
    if (url.pathname === "/cities/paris") return json(res, 200, { name: "Paris", lat: 48.85, lon: 2.35 });
    if (url.pathname === "/forecast") {
      return json(res, 200, { lat: Number(url.searchParams.get("lat")), temps: [11, 14, 9] });
    }
    if (url.pathname === "/reports") return json(res, 201, { stored: JSON.parse(body) });
    json(res, 404, {});
  });
  [api, worker] = await Promise.all([startDenoApi(port, QUEUE), startWorker(QUEUE)]);
});

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop(), upstream?.close()]);
});

describe("end to end through the Deno API and a Node worker", () => {
  it("registers, builds a 3-node chain, executes it and reads every node's output", async () => {
    const email = `e2e-${Date.now()}@example.com`;
    expect((await http("POST", "/api/auth/register", { email, password: "e2e password" })).status).toBe(201);
    const login = await http("POST", "/api/auth/login", { email, password: "e2e password" });
    const token = login.body.access_token;
    expect((await http("GET", "/api/auth/me", undefined, token)).body.email).toBe(email);

    const wf = (await http("POST", "/api/workflows", { name: "weather report" }, token)).body;
    const nodes = [
      { name: "city", type: "http_request", config: { url: `${upstream.url}/cities/{{input.city}}` } },
      {
        name: "forecast",
        type: "http_request",
        config: {
          url: `${upstream.url}/forecast`,
          query: { lat: "{{nodes.city.output.body.lat}}", lon: "{{nodes.city.output.body.lon}}" },
        },
      },
      {
        name: "report",
        type: "http_request",
        config: {
          method: "POST",
          url: `${upstream.url}/reports`,
          body: { city: "{{nodes.city.output.body.name}}", max: "{{$max(nodes.forecast.output.body.temps)}}" },
        },
      },
    ];
    const ids: string[] = [];
    for (const n of nodes) {
      const res = await http("POST", `/api/workflows/${wf.id}/nodes`, n, token);
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    for (let i = 1; i < ids.length; i++) {
      expect(
        (await http(
          "POST",
          `/api/workflows/${wf.id}/edges`,
          { source_node_id: ids[i - 1], target_node_id: ids[i] },
          token,
        )).status,
      ).toBe(201);
    }
    expect((await http("GET", `/api/workflows/${wf.id}/validate`, undefined, token)).body).toMatchObject({
      valid: true,
      order: ids,
    });

    const started = await http("POST", `/api/workflows/${wf.id}/execute`, { input: { city: "paris" } }, token);
    expect(started.status).toBe(202);
    let run;
    for (let i = 0; i < 200; i++) {
      run = (await http("GET", `/api/workflows/${wf.id}/runs/${started.body.run_id}`, undefined, token)).body;
      if (!["pending", "running"].includes(run.status)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(run.status).toBe("succeeded");
    expect(run.node_executions.map((n: { node_name: string; status: string }) => `${n.node_name}:${n.status}`)).toEqual(
      [
        "city:succeeded",
        "forecast:succeeded",
        "report:succeeded",
      ],
    );
    expect(run.node_executions[0].output.body).toEqual({ name: "Paris", lat: 48.85, lon: 2.35 });
    expect(run.node_executions[1].output.body).toEqual({ lat: 48.85, temps: [11, 14, 9] });
    expect(run.node_executions[2].input.body).toEqual({ city: "Paris", max: 14 });
    expect(run.output).toEqual({
      report: expect.objectContaining({ status: 201, body: { stored: { city: "Paris", max: 14 } } }),
    });
    expect(upstream.requests.map((r) => r.url)).toEqual(["/cities/paris", "/forecast?lat=48.85&lon=2.35", "/reports"]);

    // The Deno API's logs are structured JSON lines carrying request ids.
    const lines = api.output().split("\n").filter((l) => l.includes('"msg":"request"'));
    expect(lines.length).toBeGreaterThan(5);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: "info",
      request_id: expect.any(String),
      status: expect.any(Number),
    });
  });

  it("the Deno process answers bad input with JSON 4xx, never a 500", async () => {
    const res = await fetch(`${base}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{oops",
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("BAD_REQUEST");
    expect((await http("GET", "/readyz")).body.status).toBe("ready");
  });
});
