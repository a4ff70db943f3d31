/**
 * Weft's main job on its embedded defaults: against a running API, build a small RAG workflow — a local
 * "weather" service, a FAISS search over climate notes (all-MiniLM-L6-v2 by default), an llm_call that writes the
 * brief (SmolLM2-135M-Instruct by default, or whatever WEFT_LLM_MODEL names), a report —
 * execute it, print every node's status, output and duration and the Temporal UI link, then keep the local
 * service up until Ctrl-C.
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
      // The list of cities (the README's map example summarises each).
      if (url.pathname === "/cities") return send(200, Object.keys(cities));
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

// Versioned names: a machine that ran an older demo gets the new workflow and notes beside the old ones.
const DEMO_NAME = "Weft demo: RAG weather brief (v2)";
const COLLECTION = "weft-demo-climate-v2";

const CLIMATE_NOTES = [
  {
    text: "Paris has a temperate oceanic climate with mild summers and cool, damp winters.",
    metadata: { city: "paris" },
  },
  { text: "Paris rarely sees snow; spring brings frequent light rain showers.", metadata: { city: "paris" } },
  {
    text: "Tokyo has a humid subtropical climate with hot, muggy summers and a rainy season in June.",
    metadata: { city: "tokyo" },
  },
  { text: "Tokyo winters are dry and sunny, with occasional cold snaps.", metadata: { city: "tokyo" } },
  {
    text: "Lima is a coastal desert city: almost no rain, and grey garua mist for much of the year.",
    metadata: { city: "lima" },
  },
  { text: "Lima's summers are warm and sunny while its winters are mild and overcast.", metadata: { city: "lima" } },
  // Notes on cities the demo does not ask about: the search has to find the right city by meaning alone.
  { text: "Cairo is hot and dry, with scorching summers and almost no rainfall.", metadata: { city: "cairo" } },
  { text: "Oslo has cold, snowy winters and short, mild summers.", metadata: { city: "oslo" } },
  { text: "Mumbai's monsoon brings torrential rain from June to September.", metadata: { city: "mumbai" } },
];

/**
 * The demo's vector collection: climate notes embedded on the GPU queue (CPU here) into FAISS. A collection keeps
 * the model it was embedded with; when the worker's model changed, the demo's notes are embedded again.
 */
async function demoCollection(auth: string): Promise<string> {
  const existing = (await call("GET", "/api/vectors/collections", undefined, auth)).items
    ?.find((c: { name: string }) => c.name === COLLECTION);
  const model = process.env.WEFT_EMBEDDING_MODEL;
  if (existing && (!model || !existing.embedding_model || existing.embedding_model === model)) return existing.id;
  if (existing) await call("DELETE", `/api/vectors/collections/${existing.id}`, undefined, auth);
  const collection = await call(
    "POST",
    "/api/vectors/collections",
    { name: COLLECTION, description: "climate notes" },
    auth,
  );
  const { ingestion_id } = await call("POST", `/api/vectors/collections/${collection.id}/documents`, {
    documents: CLIMATE_NOTES,
  }, auth);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ingestion = await call(
      "GET",
      `/api/vectors/collections/${collection.id}/ingestions/${ingestion_id}`,
      undefined,
      auth,
    );
    if (ingestion.status === "succeeded") break;
    if (ingestion.status === "failed" || Date.now() > deadline) throw new Error(`ingestion ${ingestion.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return collection.id;
}

async function demoWorkflow(auth: string): Promise<string> {
  const existing = (await call("GET", "/api/workflows?limit=100", undefined, auth)).items.find((w: { name: string }) =>
    w.name === DEMO_NAME
  );
  if (existing) return existing.id;
  const wf = await call(
    "POST",
    "/api/workflows",
    { name: DEMO_NAME, description: "city → (forecast ∥ climate notes) → LLM brief → report", tags: ["demo", "rag"] },
    auth,
  );
  const nodes = [
    { name: "city", type: "http_request", config: { url: `${demoBase}/cities/{{input.city}}` } },
    {
      name: "forecast",
      type: "http_request",
      config: {
        url: `${demoBase}/forecast`,
        query: { lat: "{{nodes.city.output.body.lat}}", lon: "{{nodes.city.output.body.lon}}" },
      },
    },
    {
      name: "climate",
      type: "faiss_search",
      config: {
        collection: COLLECTION,
        // No metadata filter: the embedding model alone has to find this city's notes among the others.
        query: "What is the climate like in {{nodes.city.output.body.name}}?",
        top_k: 2,
      },
    },
    {
      name: "brief",
      type: "llm_call",
      config: {
        system: "You are a weather presenter. Write a friendly weather brief of two short sentences.",
        prompt:
          "City: {{nodes.city.output.body.name}}. Warmest day this week: {{$max(nodes.forecast.output.body.daily_max_c)}} degrees Celsius. Climate notes: {{nodes.climate.output.results.0.text}} {{nodes.climate.output.results.1.text}} Write the brief.",
        max_tokens: 80,
        temperature: 0,
      },
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
          context: "{{nodes.climate.output.results.0.text}}",
          brief: "{{nodes.brief.output.text}}",
        },
      },
    },
  ];
  const ids: Record<string, string> = {};
  for (const [i, n] of nodes.entries()) {
    ids[n.name] =
      (await call("POST", `/api/workflows/${wf.id}/nodes`, { ...n, position_x: i * 220, position_y: 0 }, auth)).id;
  }
  for (
    const [a, b] of [["city", "forecast"], ["city", "climate"], ["forecast", "brief"], ["climate", "brief"], [
      "brief",
      "report",
    ]]
  ) {
    await call("POST", `/api/workflows/${wf.id}/edges`, { source_node_id: ids[a], target_node_id: ids[b] }, auth);
  }
  return wf.id;
}

const short = (v: unknown, max = 90) => {
  const s = JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

const server = await startWeatherService();
const auth = await token();
await demoCollection(auth);
const workflowId = await demoWorkflow(auth);
const city = process.env.DEMO_CITY ?? "paris";
const started = await call("POST", `/api/workflows/${workflowId}/execute`, { input: { city } }, auth);
console.log(`\nExecuting "${DEMO_NAME}" (run ${started.run_id}) with input {"city": "${city}"} …`);
let run;
// A first run loads both models; a slow or busy CPU needs a while for the brief.
const deadline = Date.now() + Number(process.env.DEMO_TIMEOUT_S ?? 300) * 1000;
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
    } ${short(n.output?.body ?? n.output?.results?.map((r: { text: string }) => r.text) ?? n.output?.text ?? n.error)}`,
  );
}
const output = (name: string) => run.node_executions.find((n: { node_name: string }) => n.node_name === name)?.output;
console.log(
  `\n  climate notes found: ${JSON.stringify(output("climate")?.results?.map((r: { text: string }) => r.text))}`,
);
const brief = output("brief");
if (brief) console.log(`  brief (${brief.model}, ${brief.tokens_per_s} tokens/s): ${brief.text.trim()}`);
console.log(`\n  run output: ${short(run.output, 200)}`);
// With the UI served by the API (scripts/run.sh), one link signs the browser in and opens the run decoded.
const ui = new URL(run.temporal.ui_url);
if (ui.pathname.startsWith("/temporal/")) {
  const link = `${ui.origin}/api/codec/session?token=${auth}&next=${encodeURIComponent(ui.pathname)}`;
  console.log(`\nTemporal UI for this run, decoded (open in your browser; it signs the browser in):\n  ${link}`);
} else {
  console.log(`\nTemporal UI for this run:  ${run.temporal.ui_url}`);
  console.log(`Decode payloads in the UI: open ${api}/api/codec/session?token=<TOKEN below> once in the browser`);
}
console.log(`API docs:                  ${api}/docs`);
console.log(`\nTry it yourself:\n  export TOKEN=${auth}`);
console.log(`  curl -s ${api}/api/workflows/${workflowId}/runs/${run.id} -H "authorization: Bearer $TOKEN"`);
console.log(
  `  curl -s -X POST ${api}/api/workflows/${workflowId}/execute -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"input":{"city":"tokyo"}}'`,
);
console.log("\nWeft is running (API, worker, Temporal dev server, demo weather service). Press Ctrl-C to stop.");
if (run.status !== "succeeded") process.exitCode = 1;
if (process.env.DEMO_EXIT === "1") server.close();
