/**
 * Weft's main job on its embedded defaults: against a running API, build a 3-node workflow that calls a
 * small local "weather" service, execute it, print every node's status, output and duration and the
 * Temporal UI link, then keep the local service up until Ctrl-C.
 */
import { createServer } from "node:http";

const api = process.env.WEFT_API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8000}`;
const demoPort = Number(process.env.DEMO_PORT ?? 8090);
const demoBase = `http://127.0.0.1:${demoPort}`;
const email = "demo@weft.local";
const password = "weft-demo-password";

const cities: Record<string, { name: string; country: string; lat: number; lon: number }> = {
  paris: { name: "Paris", country: "FR", lat: 48.8566, lon: 2.3522 },
  tokyo: { name: "Tokyo", country: "JP", lat: 35.6762, lon: 139.6503 },
  lima: { name: "Lima", country: "PE", lat: -12.0464, lon: -77.0428 },
};

/** The local service the demo's http_request nodes call (nothing leaves this machine). */
function startWeatherService() {
  const reports: unknown[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", demoBase);
      const send = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      const city = /^\/cities\/(\w+)$/.exec(url.pathname);
      if (city) return cities[city[1]] ? send(200, cities[city[1]]) : send(404, { error: "unknown city" });
      if (url.pathname === "/forecast") {
        const lat = Number(url.searchParams.get("lat"));
        const base = Math.round(20 - Math.abs(lat) / 4);
        return send(200, { lat, daily_max_c: [base, base + 2, base - 1, base + 3, base + 1] });
      }
      if (url.pathname === "/reports" && req.method === "POST") {
        const report = { id: reports.length + 1, ...JSON.parse(body || "{}") };
        reports.push(report);
        return send(201, report);
      }
      send(404, { error: "not found" });
    });
  });
  return new Promise<typeof server>((resolve, reject) => {
    server.once("error", reject);
    server.listen(demoPort, "127.0.0.1", () => resolve(server));
  });
}

async function call(method: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(api + path, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

async function token(): Promise<string> {
  try {
    await call("POST", "/api/auth/register", { email, password, full_name: "Weft Demo" });
  } catch (err) {
    if (!String(err).includes("409")) throw err;
  }
  return (await call("POST", "/api/auth/login", { email, password })).access_token;
}

const DEMO_NAME = "Weft demo: weather report";

async function demoWorkflow(auth: string): Promise<string> {
  const existing = (await call("GET", "/api/workflows?limit=100", undefined, auth)).items.find((w: { name: string }) =>
    w.name === DEMO_NAME
  );
  if (existing) return existing.id;
  const wf = await call("POST", "/api/workflows", {
    name: DEMO_NAME,
    description: "city → forecast → report",
    tags: ["demo"],
  }, auth);
  const nodes = [
    {
      name: "city",
      type: "http_request",
      config: { url: `${demoBase}/cities/{{input.city}}` },
      position_x: 0,
      position_y: 0,
    },
    {
      name: "forecast",
      type: "http_request",
      config: {
        url: `${demoBase}/forecast`,
        query: { lat: "{{nodes.city.output.body.lat}}", lon: "{{nodes.city.output.body.lon}}" },
      },
      position_x: 250,
      position_y: 0,
    },
    {
      name: "report",
      type: "http_request",
      config: {
        method: "POST",
        url: `${demoBase}/reports`,
        body: {
          city: "{{nodes.city.output.body.name}}",
          warmest_c: "{{$max(nodes.forecast.output.body.daily_max_c)}}",
          summary:
            "{{nodes.city.output.body.name}} peaks at {{$max(nodes.forecast.output.body.daily_max_c)}}°C this week",
        },
      },
      position_x: 500,
      position_y: 0,
    },
  ];
  const ids: string[] = [];
  for (const n of nodes) ids.push((await call("POST", `/api/workflows/${wf.id}/nodes`, n, auth)).id);
  for (let i = 1; i < ids.length; i++) {
    await call("POST", `/api/workflows/${wf.id}/edges`, { source_node_id: ids[i - 1], target_node_id: ids[i] }, auth);
  }
  return wf.id;
}

const short = (v: unknown, max = 90) => {
  const s = JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

const server = await startWeatherService();
const auth = await token();
const workflowId = await demoWorkflow(auth);
const city = process.env.DEMO_CITY ?? "paris";
const started = await call("POST", `/api/workflows/${workflowId}/execute`, { input: { city } }, auth);
console.log(`\nExecuting "${DEMO_NAME}" (run ${started.run_id}) with input {"city": "${city}"} …`);
let run;
const deadline = Date.now() + 60_000;
do {
  await new Promise((r) => setTimeout(r, 200));
  run = await call("GET", `/api/workflows/${workflowId}/runs/${started.run_id}`, undefined, auth);
} while (["pending", "running"].includes(run.status) && Date.now() < deadline);

console.log(`\nRun ${run.id}: ${run.status.toUpperCase()}  (version ${run.version}, ${run.version_hash.slice(0, 12)})`);
console.log("  node       status      attempt  duration  output");
for (const n of run.node_executions) {
  console.log(
    `  ${n.node_name.padEnd(10)} ${n.status.padEnd(11)} ${String(n.attempt).padEnd(8)} ${
      `${n.duration_ms} ms`.padEnd(9)
    } ${short(n.output?.body ?? n.error)}`,
  );
}
console.log(`\n  run output: ${short(run.output, 200)}`);
console.log(`\nTemporal UI for this run:  ${run.temporal.ui_url}`);
console.log(`API docs:                  ${api}/docs`);
console.log(`Decode payloads in the UI: open ${api}/api/codec/session?token=<TOKEN below> once in the browser`);
console.log(`\nTry it yourself:\n  export TOKEN=${auth}`);
console.log(`  curl -s ${api}/api/workflows/${workflowId}/runs/${run.id} -H "authorization: Bearer $TOKEN"`);
console.log(
  `  curl -s -X POST ${api}/api/workflows/${workflowId}/execute -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"input":{"city":"tokyo"}}'`,
);
console.log("\nWeft is running (API, worker, Temporal dev server, demo weather service). Press Ctrl-C to stop.");
if (run.status !== "succeeded") process.exitCode = 1;
if (process.env.DEMO_EXIT === "1") server.close();
