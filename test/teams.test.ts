/**
 * Issue 12's "done means", end to end over HTTP (the Deno API process, a Node worker, Temporal, PostgreSQL): a
 * team of three — owner, editor, viewer — and one service key share a workflow, each sees exactly what their
 * role allows, and the owner reads who did what. The README's "Teams" section walks the same steps with curl.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, startUpstream, type Upstream } from "./helpers.ts";
import { type Spawned, startDenoApi, startWorker } from "./processes.ts";
import { freePort } from "./stack.ts";

const QUEUE = "weft-teams";
let api: Spawned;
let worker: Spawned;
let upstream: Upstream;
let base: string;

async function http(
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...headers,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function person(name: string) {
  const email = `${name}-${Date.now()}@example.com`;
  expect((await http("POST", "/api/auth/register", undefined, { email, password: "a long password" })).status).toBe(
    201,
  );
  const login = await http("POST", "/api/auth/login", undefined, { email, password: "a long password" });
  return { email, token: login.body.access_token as string };
}

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  upstream = await startUpstream((req, _body, res) => json(res, 200, { city: new URL(req.url!, "http://x").pathname }));
  [api, worker] = await Promise.all([startDenoApi(port, QUEUE), startWorker(QUEUE)]);
});

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop(), upstream?.close()]);
});

describe("a team of three and a service key share a workflow", () => {
  it("each sees what their role allows, and the owner reads who did what", async () => {
    const [owner, editor, viewer, outsider] = await Promise.all(["owner", "editor", "viewer", "outsider"].map(person));
    // The owner makes the team and adds the others by email.
    const team = await http("POST", "/api/workspaces", owner.token, { name: "Weather team" });
    expect(team.status).toBe(201);
    const ws = team.body.id as string;
    for (const [who, role] of [[editor, "editor"], [viewer, "viewer"]] as const) {
      const added = await http("POST", `/api/workspaces/${ws}/members`, owner.token, { email: who.email, role });
      expect(added.status).toBe(201);
    }
    const inTeam = { "Weft-Workspace": ws };

    // The editor builds the workflow in the team workspace.
    const wf = await http("POST", "/api/workflows", editor.token, { name: "weather" }, inTeam);
    expect(wf.status).toBe(201);
    const node = await http("POST", `/api/workflows/${wf.body.id}/nodes`, editor.token, {
      name: "city",
      type: "http_request",
      config: { url: `${upstream.url}/cities/{{input.city}}` },
    }, inTeam);
    expect(node.status).toBe(201);

    // The viewer reads it but cannot change or run it; the outsider does not see it at all.
    expect((await http("GET", `/api/workflows/${wf.body.id}`, viewer.token, undefined, inTeam)).status).toBe(200);
    const change = await http("PUT", `/api/workflows/${wf.body.id}`, viewer.token, { name: "mine" }, inTeam);
    expect(change.status).toBe(403);
    expect(change.body.error.code).toBe("FORBIDDEN");
    expect((await http("POST", `/api/workflows/${wf.body.id}/execute`, viewer.token, { input: {} }, inTeam)).status)
      .toBe(403);
    expect((await http("GET", `/api/workflows/${wf.body.id}`, outsider.token, undefined, inTeam)).status).toBe(404);
    expect((await http("GET", `/api/workflows/${wf.body.id}`, outsider.token)).status).toBe(404);
    // Without the header a person is in their personal workspace, where the team's workflow is not.
    expect((await http("GET", `/api/workflows/${wf.body.id}`, editor.token)).status).toBe(404);

    // The owner makes an operator key for a service; the service runs the workflow with it alone.
    const key = await http("POST", `/api/workspaces/${ws}/api-keys`, owner.token, {
      name: "cron-service",
      role: "operator",
    });
    expect(key.status).toBe(201);
    const run = await http("POST", `/api/workflows/${wf.body.id}/execute`, key.body.key, { input: { city: "oslo" } });
    expect(run.status).toBe(202);
    const done = await http("GET", `/api/workflows/${wf.body.id}/runs/${run.body.run_id}?wait=30`, key.body.key);
    expect(done.body.status).toBe("succeeded");
    expect(done.body.node_executions[0].output.body).toEqual({ city: "/cities/oslo" });
    // The viewer sees the run; the key cannot change the workflow (operator < editor) nor manage keys.
    expect(
      (await http("GET", `/api/workflows/${wf.body.id}/runs/${run.body.run_id}`, viewer.token, undefined, inTeam))
        .status,
    )
      .toBe(200);
    expect((await http("DELETE", `/api/workflows/${wf.body.id}`, key.body.key)).status).toBe(403);
    expect((await http("GET", `/api/workspaces/${ws}/api-keys`, key.body.key)).status).toBe(403);

    // The owner reads who did what.
    const log = await http("GET", `/api/workspaces/${ws}/audit`, owner.token);
    expect(log.status).toBe(200);
    const seen = log.body.items.map((e: { action: string; actor: { email?: string; name?: string } }) =>
      `${e.action} by ${e.actor.email ?? e.actor.name}`
    );
    expect(seen).toEqual([
      "run.started by cron-service",
      "api_key.created by " + owner.email,
      "node.created by " + editor.email,
      "workflow.created by " + editor.email,
      "member.added by " + owner.email,
      "member.added by " + owner.email,
      "workspace.created by " + owner.email,
    ]);
    // The viewer may not read the log.
    expect((await http("GET", `/api/workspaces/${ws}/audit`, viewer.token)).status).toBe(403);
  });
});
