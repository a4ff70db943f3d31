/**
 * Issue 10, property 6, as the attack: a server that echoes a secret back re-encoded (percent-encoded URL, JSON
 * escapes, case changes, hex, base64 at every alignment, binary bodies, error bodies cut mid-secret), and
 * expressions that try to compute over a secret. The secret, in any of those spellings, must appear nowhere.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { SECRET_NODE_TYPES } from "../../core/secret-placement.ts";
import { buildWorkflow, call, json, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";
import { findSpellings, historyText, runRowsText } from "../../test/secret-leaks.ts";

// Characters that each encoding spells differently: '/', '+', space and quotes; a random middle no one can guess.
const RANDOM = crypto.randomUUID().replaceAll("-", "");
const SECRET = `sk-Live/${RANDOM}+q "z"`;
const b64 = (s: string, alphabet: BufferEncoding = "base64") => Buffer.from(s).toString(alphabet);

/** Everything the echo server can think of doing with a value it was given. */
const reflections = (v: string) => ({
  raw: v,
  upper: v.toUpperCase(),
  lower: v.toLowerCase(),
  uri: encodeURIComponent(v),
  form: new URLSearchParams({ v }).toString(),
  twice: encodeURIComponent(encodeURIComponent(v)),
  hex: Buffer.from(v).toString("hex").toUpperCase(),
  base64: b64(v),
  base64url: b64(v, "base64url"),
  basic: b64(`user:${v}`),
  shifted: b64(`xy${v}`),
  nested_json: JSON.stringify({ v }),
  uri_of_base64: encodeURIComponent(b64(v)),
});

const t = useApiHarness({
  names: ["leak", "bob"],
  upstream: (req, body, res) => {
    const token = String(req.headers["x-token"] ?? "");
    const path = req.url!.split("?")[0];
    if (path === "/binary") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      return res.end(Buffer.concat([Buffer.from([1, 2]), Buffer.from(token), Buffer.from([255])]));
    }
    // An error body cut by the node's 500-character excerpt in the middle of the secret.
    if (path === "/cut") {
      res.writeHead(400, { "content-type": "text/plain" });
      return res.end("y".repeat(490) + token + " and more");
    }
    if (path === "/reject") {
      return json(res, 400, { error: "bad token", url: req.url, hex: Buffer.from(token).toString("hex") });
    }
    json(res, 200, { url: req.url, headers: req.headers, body, echo: reflections(token) }, {
      "x-echo": b64(token),
    });
  },
});
beforeAll(async () => {
  expect(
    (await call(t.app, "POST", "/api/secrets", { token: t.alice.token, body: { name: "TOKEN", value: SECRET } }))
      .status,
  ).toBe(201);
});

async function execute(workflowId: string) {
  const res = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
    token: t.alice.token,
    body: { input: { q: "x" } },
  });
  expect(res.status).toBe(202);
  const run = await waitForRun(t.app, t.alice.token, workflowId, res.body.run_id, 60_000);
  return { run, runId: res.body.run_id as string, temporalId: res.body.temporal.workflow_id as string };
}

/** Every place a run's data reaches, each searched for every spelling of the secret. */
async function leaksOf(workflowId: string, runId: string, temporalId: string): Promise<string[]> {
  const base = `/api/workflows/${workflowId}/runs`;
  const places: Record<string, string> = {
    api_run: JSON.stringify((await call(t.app, "GET", `${base}/${runId}`, { token: t.alice.token })).body),
    api_runs: JSON.stringify((await call(t.app, "GET", base, { token: t.alice.token })).body),
    sse: await (await t.app.request(`${base}/${runId}/events`, {
      headers: { authorization: `Bearer ${t.alice.token}` },
    })).text(),
    ...await runRowsText(t.sql, runId),
    temporal_history: await historyText(t.temporal, temporalId),
  };
  expect(places.sse).toContain("event: run");
  expect(places.temporal_history.length).toBeGreaterThan(500);
  return Object.entries(places).flatMap(([where, text]) => [
    ...findSpellings(where, text, SECRET),
    // The random middle in any case is proof enough of a leak, however the rest was spelled.
    ...(text.toLowerCase().includes(RANDOM.toLowerCase()) ? [`${where}: random part`] : []),
  ]);
}

describe("secrets through encodings", () => {
  it("an echoing server's encodings of a secret appear nowhere: API, SSE, tables, Temporal history", async () => {
    const header = { "x-token": "{{secrets.TOKEN}}" };
    const wf = await buildWorkflow(t.app, t.alice.token, [
      {
        name: "query",
        config: { url: `${t.upstream.url}/echo?token={{secrets.TOKEN}}&q={{input.q}}`, headers: header },
      },
      {
        name: "post",
        config: { method: "POST", url: `${t.upstream.url}/echo`, headers: header, body: { t: "{{secrets.TOKEN}}" } },
      },
      { name: "binary", config: { url: `${t.upstream.url}/binary`, headers: header } },
      { name: "cut", config: { url: `${t.upstream.url}/cut`, headers: header } },
    ], [["query", "post"], ["query", "binary"], ["query", "cut"]]);
    await call(t.app, "PUT", `/api/workflows/${wf.workflowId}`, {
      token: t.alice.token,
      body: { on_failure: "continue" },
    });
    const { run, runId, temporalId } = await execute(wf.workflowId);

    // The real value went out, in every form the server was sent it.
    const sent = t.upstream.requests.filter((r) => r.headers["x-token"] === SECRET);
    expect(sent.map((r) => r.url.split("?")[0]).sort()).toEqual(["/binary", "/cut", "/echo", "/echo"]);
    expect(t.upstream.requests.find((r) => r.url.startsWith("/echo?"))!.url).toContain(encodeURIComponent(RANDOM));
    const byName = Object.fromEntries(run.node_executions.map((e: { node_name: string }) => [e.node_name, e]));
    expect(byName.query.status).toBe("succeeded");
    expect(byName.query.output.url).toContain("token=***");
    expect(byName.query.output.body.echo.raw).toBe("***");
    expect(byName.post.output.body.body).toBe('{"t":"***"}');
    expect(byName.binary.output.body_encoding).toBe("base64");
    expect(byName.cut.status).toBe("failed");
    expect(byName.cut.error.message).toMatch(/y\*\*\*$/);

    expect(await leaksOf(wf.workflowId, runId, temporalId)).toEqual([]);
  });

  it("a lone node's failure (an activity failure in Temporal) carries no spelling of the secret", async () => {
    const wf = await buildWorkflow(t.app, t.alice.token, [
      {
        name: "reject",
        config: { url: `${t.upstream.url}/reject?k={{secrets.TOKEN}}`, headers: { "x-token": "{{secrets.TOKEN}}" } },
      },
    ]);
    const { run, runId, temporalId } = await execute(wf.workflowId);
    expect(run.status).toBe("failed");
    expect(run.node_executions[0].error).toMatchObject({ type: "HTTP_400", retryable: false });
    expect(run.node_executions[0].error.message).toContain("bad token");
    expect(await leaksOf(wf.workflowId, runId, temporalId)).toEqual([]);
  });
});

describe("secrets and expressions", () => {
  it("refuses a secret inside an expression at save with a 400 that says why", async () => {
    const wf = await buildWorkflow(t.app, t.alice.token, [{
      name: "start",
      config: { url: `${t.upstream.url}/echo` },
    }]);
    const node = (type: string, config: Record<string, unknown>) =>
      call(t.app, "POST", `/api/workflows/${wf.workflowId}/nodes`, {
        token: t.alice.token,
        body: { name: `n_${crypto.randomUUID().slice(0, 8)}`, type, config },
      });
    const refused = [
      await node("transform", { expression: "$base64encode(secrets.TOKEN)" }),
      await node("transform", { expression: "$uppercase($$.input.x & secrets.TOKEN)" }),
      await node("http_request", { url: `${t.upstream.url}/echo?t={{$uppercase(secrets.TOKEN)}}` }),
      await node("http_request", { url: `${t.upstream.url}/echo`, headers: { a: "{{$string(secrets)}}" } }),
      await node("http_request", { url: `${t.upstream.url}/echo`, body: { h: "{{$encodeUrl(secrets.TOKEN)}}" } }),
      await node("approval", { message: "token {{secrets.TOKEN}}" }),
    ];
    for (const res of refused) {
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_ERROR");
      expect(res.body.error.message).toMatch(/secret/);
    }
    expect(refused[2].body.error.message).toContain('only be placed whole, as "{{secrets.NAME}}"');
    expect(refused[5].body.error.message).toContain(SECRET_NODE_TYPES.join(" and "));
    const placed = await node("http_request", { url: `${t.upstream.url}/echo?t={{ secrets.TOKEN }}` });
    expect(placed.status).toBe(201);
    const edge = await call(t.app, "POST", `/api/workflows/${wf.workflowId}/edges`, {
      token: t.alice.token,
      body: {
        source_node_id: wf.nodeIds.start,
        target_node_id: placed.body.id,
        condition: "$contains(secrets.TOKEN, 'sk')",
      },
    });
    expect(edge.status).toBe(400);
    expect(edge.body.error.message).toContain("secrets cannot be used in a condition");
    // Nothing was stored by the refused requests.
    const nodes = await t.sql`SELECT name FROM nodes WHERE workflow_id = ${wf.workflowId}`;
    expect(nodes.length).toBe(2);
    expect((await t.sql`SELECT 1 FROM edges WHERE workflow_id = ${wf.workflowId}`).length).toBe(0);
  });

  it("an expression cannot reach a secret placed in the same config, however it names it", async () => {
    const before = t.upstream.requests.length;
    const wf = await buildWorkflow(t.app, t.alice.token, [{
      name: "sneak",
      config: {
        url: `${t.upstream.url}/echo?a={{secrets.TOKEN}}&b={{$string($lookup($$, "sec" & "rets"))}}`,
        headers: { "x-token": "{{secrets.TOKEN}}", "x-ctx": "{{$base64encode($string($$))}}" },
      },
    }]);
    const { run, runId, temporalId } = await execute(wf.workflowId);
    expect(run.status).toBe("succeeded");
    const got = t.upstream.requests.slice(before);
    expect(got.length).toBe(1);
    const [, a, b] = /\?a=(.*)&b=(.*)$/.exec(got[0].url)!;
    expect(decodeURIComponent(a)).toBe(SECRET);
    expect(b).toBe(""); // the expressions' context has no secrets in it
    const context = Buffer.from(String(got[0].headers["x-ctx"]), "base64").toString();
    expect(context).toContain('"input":{"q":"x"}');
    expect(context).not.toContain(RANDOM);
    expect(await leaksOf(wf.workflowId, runId, temporalId)).toEqual([]);
  });

  it("a node stored with a secret in an expression before the rule is refused at execute, and fails if re-run", async () => {
    const wf = await buildWorkflow(t.app, t.alice.token, [{
      name: "legacy",
      type: "transform",
      config: { expression: '$error("first attempt")' },
    }]);
    const first = await execute(wf.workflowId);
    expect(first.run.status).toBe("failed");
    // As they could have been stored before secrets were refused in expressions: the node and the run's snapshot.
    const legacy = "$base64encode(secrets.TOKEN)";
    await t.sql`UPDATE nodes SET config = ${t.sql.json({ expression: legacy })} WHERE id = ${wf.nodeIds.legacy}`;
    // A version of its own, as every stored graph has (the API keeps each version's checked graph: db/runs.ts).
    await t.sql`UPDATE workflows SET version = version + 1 WHERE id = ${wf.workflowId}`;
    const refused = await call(t.app, "POST", `/api/workflows/${wf.workflowId}/execute`, {
      token: t.alice.token,
      body: { input: {} },
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body.error)).toContain("secrets cannot be used in an expression");
    await t.sql`UPDATE workflow_runs SET snapshot = jsonb_set(snapshot, '{nodes,0,config,expression}', ${
      t.sql.json(legacy)
    }) WHERE id = ${first.runId}`;
    const retried = await call(t.app, "POST", `/api/workflows/${wf.workflowId}/runs/${first.runId}/retry`, {
      token: t.alice.token,
      body: { version: "pinned" },
    });
    expect(retried.status).toBe(202);
    const run = await waitForRun(t.app, t.alice.token, wf.workflowId, retried.body.run_id, 60_000);
    expect(run.status).toBe("failed");
    expect(run.node_executions[0].error).toMatchObject({ type: "SecretInExpression", retryable: false });
    expect(run.node_executions[0].error.message).toContain(
      "config.expression: secrets cannot be used in an expression",
    );
    expect(run.node_executions[0].output).toBeNull();
    expect(await leaksOf(wf.workflowId, retried.body.run_id, retried.body.temporal.workflow_id)).toEqual([]);
  });
});
