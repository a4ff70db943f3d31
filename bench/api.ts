/**
 * bench/api: authenticated `GET /api/workflows/{id}` (JWT verify + one PostgreSQL query returning the
 * workflow with its nodes and edges) against a bare Hono JSON route (`GET /healthz`) in the same Deno
 * server, same run, rounds alternated. Prints req/s, p50 and p99 for both and the ratio. The same read with a
 * service's API key (`weft_…`: SHA-256, cached) instead of a JWT is measured too, and a second API process with
 * the read cache off (WEFT_READ_CACHE=false), so the cost of the database path shows.
 * Usage: node --import tsx bench/api.ts [seconds per round=10] [rounds=3] [connections=50]
 */
import autocannon from "autocannon";
import { mkdirSync, writeFileSync } from "node:fs";
import {
  BENCH_DATABASE_URL,
  BENCH_JWT_SECRET,
  BENCH_TEMPORAL_ADDRESS,
  DENO_BIN,
  freePort,
  median,
  spawnLogged,
  startBenchStack,
} from "./stack.ts";

const [seconds, rounds, connections] = [
  Number(process.argv[2] ?? 10),
  Number(process.argv[3] ?? 3),
  Number(process.argv[4] ?? 50),
];
const stopStack = await startBenchStack();
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
mkdirSync(".state/logs", { recursive: true });
const apiEnv = {
  DATABASE_URL: BENCH_DATABASE_URL,
  TEMPORAL_ADDRESS: BENCH_TEMPORAL_ADDRESS,
  JWT_SECRET: BENCH_JWT_SECRET,
};
const api = await spawnLogged(
  DENO_BIN,
  ["run", "-A", "api/main.ts"],
  { ...apiEnv, PORT: String(port), WEFT_METRICS_PORT: "0" },
  ".state/logs/bench-api.log",
  `${base}/healthz`,
);
const uncachedPort = await freePort();
const uncachedBase = `http://127.0.0.1:${uncachedPort}`;
const uncachedApi = await spawnLogged(
  DENO_BIN,
  ["run", "-A", "api/main.ts"],
  { ...apiEnv, PORT: String(uncachedPort), WEFT_READ_CACHE: "false", WEFT_METRICS_PORT: "0" },
  ".state/logs/bench-api-uncached.log",
  `${uncachedBase}/healthz`,
);

const post = async (path: string, body: unknown, token?: string) => {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return res.json();
};
await post("/api/auth/register", { email: "bench@weft.local", password: "bench password" });
const { access_token: token } = await post("/api/auth/login", {
  email: "bench@weft.local",
  password: "bench password",
});
const wf = await post("/api/workflows", { name: "bench", tags: ["bench"] }, token);
const ids: string[] = [];
for (const name of ["a", "b", "c"]) {
  ids.push(
    (await post(`/api/workflows/${wf.id}/nodes`, {
      name,
      type: "http_request",
      config: { url: "https://x.io/{{input.q}}" },
    }, token)).id,
  );
}
await post(`/api/workflows/${wf.id}/edges`, { source_node_id: ids[0], target_node_id: ids[1] }, token);
await post(`/api/workflows/${wf.id}/edges`, { source_node_id: ids[1], target_node_id: ids[2] }, token);
// A viewer key of the user's personal workspace (whose id is the user's).
const me = await (await fetch(`${base}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } })).json();
const { key: apiKey } = await post(`/api/workspaces/${me.id}/api-keys`, { name: "bench", role: "viewer" }, token);

/** The part of autocannon's result (the package ships no types) this bench reads. */
interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
interface Result {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}
const load = (path: string, headers: Record<string, string> = {}, server = base) =>
  new Promise<Result>((resolve, reject) => {
    autocannon(
      { url: server + path, connections, duration: seconds, headers },
      (err: Error | null, r: AutocannonResult) => {
        if (err) return reject(err);
        resolve({
          rps: r.requests.average,
          p50: r.latency.p50,
          p99: r.latency.p99,
          non2xx: r.non2xx,
          errors: r.errors,
        });
      },
    );
  });

const auth = { authorization: `Bearer ${token}` };
// Warm up both paths (JIT, connection pool), then alternate so drift on a shared machine hits both.
await load("/healthz");
await load(`/api/workflows/${wf.id}`, auth);
await load(`/api/workflows/${wf.id}`, auth, uncachedBase);
const keyAuth = { authorization: `Bearer ${apiKey}` };
await load(`/api/workflows/${wf.id}`, keyAuth);
const bare: Result[] = [];
const authed: Result[] = [];
const withKey: Result[] = [];
const uncached: Result[] = [];
for (let i = 0; i < rounds; i++) {
  bare.push(await load("/healthz"));
  authed.push(await load(`/api/workflows/${wf.id}`, auth));
  withKey.push(await load(`/api/workflows/${wf.id}`, keyAuth));
  uncached.push(await load(`/api/workflows/${wf.id}`, auth, uncachedBase));
}
const summary = (rs: Result[]) => ({
  rps: Math.round(median(rs.map((r) => r.rps))),
  p50_ms: median(rs.map((r) => r.p50)),
  p99_ms: median(rs.map((r) => r.p99)),
  non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
  errors: rs.reduce((a, r) => a + r.errors, 0),
});
const result = {
  when: new Date().toISOString(),
  settings: { seconds, rounds, connections },
  bare_hono_route: summary(bare),
  authenticated_get_workflow: summary(authed),
  api_key_get_workflow: summary(withKey),
  authenticated_get_workflow_cache_off: summary(uncached),
  ratio_rps: 0,
  ratio_rps_api_key: 0,
  ratio_rps_cache_off: 0,
};
const ratio = (r: { rps: number }) => Math.round((r.rps / result.bare_hono_route.rps) * 100) / 100;
result.ratio_rps = ratio(result.authenticated_get_workflow);
result.ratio_rps_api_key = ratio(result.api_key_get_workflow);
result.ratio_rps_cache_off = ratio(result.authenticated_get_workflow_cache_off);
console.log("route                              req/s (median)  p50 ms  p99 ms  non-2xx");
for (
  const [name, r] of [
    ["bare Hono route GET /healthz", result.bare_hono_route],
    ["GET /api/workflows/{id}", result.authenticated_get_workflow],
    ["  same, with an API key", result.api_key_get_workflow],
    ["  same, read cache off", result.authenticated_get_workflow_cache_off],
  ] as const
) {
  console.log(
    `${name.padEnd(34)} ${String(r.rps).padStart(14)}  ${String(r.p50_ms).padStart(6)}  ${
      String(r.p99_ms).padStart(6)
    }  ${r.non2xx}`,
  );
}
console.log("  (the cache-off row queries PostgreSQL on every request)");
console.log(
  `ratio authenticated/bare throughput: ${result.ratio_rps} (target >= 0.5); API key: ${result.ratio_rps_api_key} ` +
    `(target >= 0.5); cache off: ${result.ratio_rps_cache_off}`,
);
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/api.json", JSON.stringify(result, null, 2));
api.kill("SIGTERM");
uncachedApi.kill("SIGTERM");
stopStack();
process.exit(0);
