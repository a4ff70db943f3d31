/**
 * The operator's flow in a real browser (Debian's Chromium): the one link a run prints signs the browser in and
 * opens the run in the Temporal UI (served by the API under /temporal/, the dev setup of scripts/run.sh), which
 * shows the run decoded through Weft's codec; the UI's list filters by Weft's search attributes; /docs works
 * offline with a bearer token. Screenshots go to .state/artifacts/.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_TEMPORAL_PORT } from "../env.ts";
import { fetchJson } from "../helpers.ts";
import { type Spawned, startDenoApi, startWorker } from "../processes.ts";
import { freePort } from "../stack.ts";
import { launchBrowser, screenshot, waitForText } from "./browser.ts";

const QUEUE = "weft-ui";
const GRPC = TEST_TEMPORAL_PORT + 20;
const UI = TEST_TEMPORAL_PORT + 21;
const CODEC_ERROR = /Codec Server could not connect/i;
let api: Spawned;
let worker: Spawned;
let base: string;
let browser: Browser;
let closeBrowser: () => Promise<void>;

const http = (method: string, path: string, body?: unknown, token?: string) =>
  fetchJson(base, method, path, body, token, { redirect: "manual" });

async function signUp(prefix: string) {
  const email = `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  expect((await http("POST", "/api/auth/register", { email, password: "a long password" })).status).toBe(201);
  const token = (await http("POST", "/api/auth/login", { email, password: "a long password" })).body.access_token;
  const me = await http("GET", "/api/auth/me", undefined, token);
  return { token, id: me.body.id as string, email };
}

/** Runs a one-node workflow that returns the city it was given; answers the finished run. */
async function runCity(token: string, city: string) {
  const wf = await http("POST", "/api/workflows", { name: `ui-${city}` }, token);
  const node = { name: "city", type: "transform", config: { expression: "{'name': input.city}" } };
  expect((await http("POST", `/api/workflows/${wf.body.id}/nodes`, node, token)).status).toBe(201);
  const started = await http("POST", `/api/workflows/${wf.body.id}/execute`, { input: { city } }, token);
  expect(started.status).toBe(202);
  const run = await http("GET", `/api/workflows/${wf.body.id}/runs/${started.body.run_id}?wait=30`, undefined, token);
  expect(run.body.status).toBe("succeeded");
  return started.body as { run_id: string; temporal: { workflow_id: string; ui_url: string } };
}

/** The link scripts/demo.ts prints: sign this browser in, then open `path` (the run's page in the UI). */
const signInLink = (token: string, path: string) =>
  `${base}/api/codec/session?token=${token}&next=${encodeURIComponent(path)}`;

beforeAll(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  // A dev server of its own with the UI on: the shared test server is headless.
  execFileSync("bash", ["scripts/temporal-dev.sh", String(GRPC), String(UI), ""], {
    env: {
      ...process.env,
      TEMPORAL_UI_PUBLIC_PATH: "/temporal",
      TEMPORAL_UI_CODEC_ENDPOINT: `${base}/api/codec`,
    },
  });
  const temporal = { TEMPORAL_ADDRESS: `127.0.0.1:${GRPC}`, TEMPORAL_HTTP_ADDRESS: `127.0.0.1:${GRPC + 10}` };
  [api, worker, { browser, close: closeBrowser }] = await Promise.all([
    startDenoApi(port, QUEUE, {
      ...temporal,
      TEMPORAL_UI_URL: `${base}/temporal`,
      TEMPORAL_UI_PROXY_URL: `http://127.0.0.1:${UI}`,
    }),
    startWorker(QUEUE, temporal),
    launchBrowser(),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop(), closeBrowser?.()]);
  try {
    process.kill(Number(readFileSync(`.state/temporal/server-${GRPC}.pid`, "utf8")), "SIGTERM");
  } catch { /* not started by us, or gone */ }
});

describe("the Temporal UI in Chromium", () => {
  it("opens a finished run from its one printed link and shows it decoded, with no codec error", async () => {
    const user = await signUp("ui-owner");
    const run = await runCity(user.token, "Reykjavik");
    expect(run.temporal.ui_url).toMatch(new RegExp(`^${base}/temporal/namespaces/default/workflows/weft-run-`));
    const page = await browser.newPage();
    const decodeStatuses: number[] = [];
    page.on("response", (r) => {
      if (r.url().startsWith(`${base}/api/codec/decode`)) decodeStatuses.push(r.status());
    });
    await page.goto(signInLink(user.token, new URL(run.temporal.ui_url).pathname), { waitUntil: "networkidle2" });
    expect(page.url()).toBe(run.temporal.ui_url);
    const text = await waitForText(page, /Reykjavik/);
    // The transform ran as a local activity, and the run's page says so (core/node-execution.ts).
    await waitForText(page, /city \(transform\) · local/);
    await screenshot(page, "temporal-ui-run-decoded");
    expect(text).not.toMatch(CODEC_ERROR);
    expect(decodeStatuses.length).toBeGreaterThan(0);
    expect(decodeStatuses.every((s) => s === 200), JSON.stringify(decodeStatuses)).toBe(true);
    await page.close();
  });

  it("filters the workflow list by Weft's search attributes (WeftOwnerId)", async () => {
    const [a, b] = [await signUp("ui-a"), await signUp("ui-b")];
    const [runA, runB] = [await runCity(a.token, "Oslo"), await runCity(b.token, "Lima")];
    const page = await browser.newPage();
    const query = encodeURIComponent(`WeftOwnerId="${a.id}"`);
    await page.goto(signInLink(a.token, `/temporal/namespaces/default/workflows?query=${query}`));
    const text = await waitForText(page, new RegExp(runA.temporal.workflow_id));
    await screenshot(page, "temporal-ui-list-by-owner");
    expect(text).not.toContain(runB.temporal.workflow_id);
    await page.close();
  });

  it("serves the UI to no one without a valid session, and redirects only to paths on the API", async () => {
    const proxied = await fetch(`${base}/temporal/namespaces/default/workflows`);
    expect(proxied.status).toBe(401);
    expect((await proxied.json()).error.code).toBe("UNAUTHORIZED");
    const forged = await fetch(`${base}/temporal/`, { headers: { cookie: "weft_codec_session=not-a-token" } });
    expect(forged.status).toBe(401);
    const user = await signUp("ui-redirect");
    for (const next of ["//evil.example/x", "https://evil.example/", "/\\evil.example"]) {
      const res = await http("GET", `/api/codec/session?token=${user.token}&next=${encodeURIComponent(next)}`);
      expect(res.status, next).toBe(400);
      expect(res.headers.get("set-cookie"), next).toBeNull();
    }
    const bad = await http("GET", `/api/codec/session?token=nope&next=/temporal/`);
    expect(bad.status).toBe(401);
    expect(bad.headers.get("set-cookie")).toBeNull();
  });
});

describe("the proxied Temporal UI as another tenant's attack", () => {
  it("lets a signed-in user read only their own runs: no writes, no other run, no other tenant in lists", async () => {
    const alice = await signUp("ui-victim");
    const mallory = await signUp("ui-attacker");
    const victim = await runCity(alice.token, "Tromsø");
    const own = await runCity(mallory.token, "Bergen");
    // Mallory's browser session: the cookie /api/codec/session sets.
    const session = await fetch(`${base}/api/codec/session?token=${mallory.token}&next=/temporal/`, {
      redirect: "manual",
    });
    const cookie = session.headers.get("set-cookie")!.split(";")[0];
    const ui = (method: string, path: string, body?: unknown) =>
      fetch(`${base}/temporal/api/v1/namespaces/default/${path}`, {
        method,
        headers: { cookie, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    const wid = victim.temporal.workflow_id;
    const describeVictim = () => ui("GET", `workflows/${wid}`);

    // Writes through the UI's server API: terminate, signal, cancel, reset, batch — all refused.
    for (
      const [method, path] of [
        ["POST", `workflows/${wid}/terminate`],
        ["POST", `workflows/${wid}/signal/approve`],
        ["POST", `workflows/${wid}/cancel`],
        ["POST", `workflows/${wid}/reset`],
        ["POST", "batch-operations/x"],
        ["DELETE", `workflows/${wid}`],
      ] as const
    ) {
      const res = await ui(method, path, {});
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    // Reading another tenant's run: 404, as Weft's own API answers.
    expect((await describeVictim()).status).toBe(404);
    expect((await ui("GET", `workflows/${wid}/history`)).status).toBe(404);
    expect((await ui("GET", `workflows/${own.temporal.workflow_id}`)).status).toBe(200);
    // Other server calls that would list other tenants' things are refused.
    expect((await ui("GET", "schedules")).status).toBe(404);
    // Lists are narrowed to Mallory's runs, even when the query tries to break out of its parentheses.
    for (const query of ["", `WorkflowType = "runDag"`, `WeftOwnerId = "${alice.id}"`]) {
      const res = await ui("GET", `workflows?query=${encodeURIComponent(query)}`);
      expect(res.status, query).toBe(200);
      const ids = ((await res.json()).executions ?? []).map((e: { execution: { workflowId: string } }) =>
        e.execution.workflowId
      );
      expect(ids, query).not.toContain(wid);
    }
    for (const query of [`x") OR ("1" = "1`, `WeftOwnerId = "${alice.id}") OR (WorkflowType = "runDag"`]) {
      expect((await ui("GET", `workflows?query=${encodeURIComponent(query)}`)).status, query).toBe(400);
    }
    // Nothing changed: Alice can still read her run, completed in Temporal.
    const aliceView = await fetch(`${base}/api/codec/session?token=${alice.token}&next=/temporal/`, {
      redirect: "manual",
    });
    const aliceCookie = aliceView.headers.get("set-cookie")!.split(";")[0];
    const described = await fetch(`${base}/temporal/api/v1/namespaces/default/workflows/${wid}`, {
      headers: { cookie: aliceCookie },
    });
    expect(described.status).toBe(200);
    expect((await described.json()).workflowExecutionInfo.status).toBe("WORKFLOW_EXECUTION_STATUS_COMPLETED");
  });
});

describe("/docs in Chromium", () => {
  it("lists the API's operations from the API's own assets and Try it out works with a bearer token", async () => {
    const user = await signUp("docs");
    const page = await browser.newPage();
    const external: string[] = [];
    page.on("request", (r) => {
      if (/^https?:/.test(r.url()) && !r.url().startsWith(base)) external.push(r.url());
    });
    await page.goto(`${base}/docs`, { waitUntil: "networkidle2" });
    await page.waitForSelector('.opblock-summary-path[data-path="/api/workflows/{id}/execute"]');
    expect(external).toEqual([]);
    await page.evaluate((token) => {
      (globalThis as unknown as { ui: { preauthorizeApiKey(n: string, v: string): void } }).ui
        .preauthorizeApiKey("bearerAuth", token);
    }, user.token);
    const op = await page.waitForSelector('.opblock-get .opblock-summary-path[data-path="/api/auth/me"]');
    await op!.click();
    const execute = await page.waitForSelector(".opblock.is-open .execute");
    await execute!.click();
    await page.waitForSelector(".opblock.is-open .live-responses-table .response-col_status");
    const response = await page.$eval(".opblock.is-open .live-responses-table", (e) => (e as HTMLElement).innerText);
    await screenshot(page, "docs-try-it-out", false);
    expect(response).toContain("200");
    expect(response).toContain(user.email);
    await page.close();
  });
});
