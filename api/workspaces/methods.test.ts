/**
 * The role check looks a route up by the request's own method: HEAD reads as GET, and a method no route has
 * (TRACE, found by the fuzz stage) is the app's 404 — never a 500 for a route missing from the role table.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { call, registerUser, setupApp, type TestContext } from "../../test/helpers.ts";

let t: TestContext;
let token: string;
let wf: string;
beforeAll(async () => {
  t = await setupApp();
  token = (await registerUser(t.app, "methods")).token;
  wf = (await call(t.app, "POST", "/api/workflows", { token, body: { name: "m" } })).body.id;
});

describe("methods the role table does not list", () => {
  it("HEAD of a readable route answers like its GET", async () => {
    expect((await call(t.app, "HEAD", `/api/workflows/${wf}/nodes`, { token })).status).toBe(200);
  });

  it("methods no route of the path has (PURGE, PATCH; TRACE over HTTP in the fuzz stage) on workspace routes are 404s, not 500s", async () => {
    for (const path of [`/api/workflows/${wf}`, `/api/workflows/${wf}/edges`, `/api/workflows/${wf}/runs`]) {
      for (const method of ["PURGE", "PATCH"]) {
        const res = await call(t.app, method, path, { token });
        expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${method} ${path}`).toBeLessThan(500);
      }
    }
  });
});
