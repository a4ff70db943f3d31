/** Workspaces and members: the contract's shapes, the role rules, and 404 for anyone outside. */
import { beforeAll, describe, expect, it } from "vitest";
import { call, registerUser, setupApp, type TestContext } from "../../test/helpers.ts";

let t: TestContext;
type User = Awaited<ReturnType<typeof registerUser>>;
let alice: User, bob: User, carol: User, mallory: User;
beforeAll(async () => {
  t = await setupApp();
  [alice, bob, carol, mallory] = await Promise.all(
    ["alice", "bob", "carol", "mallory"].map((p) => registerUser(t.app, p)),
  );
});

const newWorkspace = async (owner: User, name = "Team") => {
  const res = await call(t.app, "POST", "/api/workspaces", { token: owner.token, body: { name } });
  expect(res.status).toBe(201);
  return res.body.id as string;
};
const addMember = (ws: string, by: User, who: User, role: string) =>
  call(t.app, "POST", `/api/workspaces/${ws}/members`, { token: by.token, body: { email: who.email, role } });

describe("workspaces (happy)", () => {
  it("gives every user a personal workspace, listed first", async () => {
    const res = await call(t.app, "GET", "/api/workspaces", { token: alice.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ total: 1, limit: 20, offset: 0 });
    expect(res.body.items).toEqual([{ id: alice.id, name: "Personal", role: "owner", personal: true }]);
  });

  it("creates, reads, renames and deletes a team workspace", async () => {
    const created = await call(t.app, "POST", "/api/workspaces", { token: alice.token, body: { name: "Data team" } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), name: "Data team", role: "owner", personal: false });
    const id = created.body.id;
    expect((await call(t.app, "GET", "/api/workspaces", { token: alice.token })).body.total).toBe(2);
    const got = await call(t.app, "GET", `/api/workspaces/${id}`, { token: alice.token });
    expect(got.body).toEqual(created.body);
    const renamed = await call(t.app, "PATCH", `/api/workspaces/${id}`, { token: alice.token, body: { name: "ML" } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id, name: "ML", role: "owner" });
    expect((await call(t.app, "DELETE", `/api/workspaces/${id}`, { token: alice.token })).status).toBe(204);
    expect((await call(t.app, "GET", `/api/workspaces/${id}`, { token: alice.token })).status).toBe(404);
    // Its audit rows outlive it.
    const rows = await t.sql`SELECT action FROM audit_log WHERE workspace_id = ${id} ORDER BY id`;
    expect(rows.map((r) => r.action)).toEqual(["workspace.created", "workspace.updated", "workspace.deleted"]);
  });

  it("adds members by email, changes their roles and removes them", async () => {
    const ws = await newWorkspace(alice);
    const added = await addMember(ws, alice, bob, "editor");
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ user_id: bob.id, email: bob.email, role: "editor" });
    // Bob sees it, with his role.
    const listed = await call(t.app, "GET", "/api/workspaces", { token: bob.token });
    expect(listed.body.items).toContainEqual({ id: ws, name: "Team", role: "editor", personal: false });
    const members = await call(t.app, "GET", `/api/workspaces/${ws}/members`, { token: bob.token });
    expect(members.body.items).toEqual([
      { user_id: alice.id, email: alice.email, role: "owner" },
      { user_id: bob.id, email: bob.email, role: "editor" },
    ]);
    const changed = await call(t.app, "PATCH", `/api/workspaces/${ws}/members/${bob.id}`, {
      token: alice.token,
      body: { role: "admin" },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ user_id: bob.id, email: bob.email, role: "admin" });
    // The change takes effect at once: Bob (admin now) adds Carol.
    expect((await addMember(ws, bob, carol, "viewer")).status).toBe(201);
    expect((await call(t.app, "DELETE", `/api/workspaces/${ws}/members/${carol.id}`, { token: bob.token })).status)
      .toBe(204);
    expect((await call(t.app, "GET", `/api/workspaces/${ws}`, { token: carol.token })).status).toBe(404);
  });
});

describe("workspaces (errors)", () => {
  it("refuses unknown emails (404), members twice (409) and a bad role (400)", async () => {
    const ws = await newWorkspace(alice);
    const unknown = await call(t.app, "POST", `/api/workspaces/${ws}/members`, {
      token: alice.token,
      body: { email: "nobody@example.com", role: "viewer" },
    });
    expect(unknown.status).toBe(404);
    expect((await addMember(ws, alice, bob, "viewer")).status).toBe(201);
    const again = await addMember(ws, alice, bob, "editor");
    expect(again.status).toBe(409);
    expect((await addMember(ws, alice, carol, "superuser")).status).toBe(400);
    expect((await call(t.app, "POST", "/api/workspaces", { token: alice.token, body: { name: "" } })).status).toBe(400);
  });

  it("keeps the last owner, and lets only owners grant or take owner", async () => {
    const ws = await newWorkspace(alice);
    const demote = await call(t.app, "PATCH", `/api/workspaces/${ws}/members/${alice.id}`, {
      token: alice.token,
      body: { role: "admin" },
    });
    expect(demote.status).toBe(409);
    expect((await call(t.app, "DELETE", `/api/workspaces/${ws}/members/${alice.id}`, { token: alice.token })).status)
      .toBe(409);
    expect((await addMember(ws, alice, bob, "admin")).status).toBe(201);
    const grant = await addMember(ws, bob, carol, "owner");
    expect(grant.status).toBe(403);
    expect(grant.body.error.code).toBe("FORBIDDEN");
    const take = await call(t.app, "PATCH", `/api/workspaces/${ws}/members/${alice.id}`, {
      token: bob.token,
      body: { role: "viewer" },
    });
    expect(take.status).toBe(403);
    // With a second owner, the first may step down.
    expect((await addMember(ws, alice, carol, "owner")).status).toBe(201);
    expect((await call(t.app, "DELETE", `/api/workspaces/${ws}/members/${alice.id}`, { token: alice.token })).status)
      .toBe(204);
  });

  it("does not delete the account of a team's last owner", async () => {
    const owner = await registerUser(t.app, "sole");
    const ws = await newWorkspace(owner);
    const del = () => call(t.app, "DELETE", "/api/auth/me", { token: owner.token, body: { password: owner.password } });
    const refused = await del();
    expect(refused.status).toBe(409);
    expect(refused.body.error.details).toEqual({ workspace_ids: [ws] });
    expect((await call(t.app, "GET", `/api/workspaces/${ws}`, { token: owner.token })).status).toBe(200);
    // With the team deleted, the account goes.
    expect((await call(t.app, "DELETE", `/api/workspaces/${ws}`, { token: owner.token })).status).toBe(204);
    expect((await del()).status).toBe(204);
  });

  it("does not delete a personal workspace", async () => {
    const res = await call(t.app, "DELETE", `/api/workspaces/${alice.id}`, { token: alice.token });
    expect(res.status).toBe(409);
  });
});

describe("workspaces (security)", () => {
  it("answers 404 to non-members, 403 to a role too small, 401 without a token", async () => {
    const ws = await newWorkspace(alice);
    expect((await addMember(ws, alice, bob, "viewer")).status).toBe(201);
    for (const path of [`/api/workspaces/${ws}`, `/api/workspaces/${ws}/members`, `/api/workspaces/${alice.id}`]) {
      const res = await call(t.app, "GET", path, { token: mallory.token });
      expect(res.status, path).toBe(404);
    }
    const rename = await call(t.app, "PATCH", `/api/workspaces/${ws}`, { token: bob.token, body: { name: "mine" } });
    expect(rename.status).toBe(403);
    expect(rename.body.error.code).toBe("FORBIDDEN");
    expect((await call(t.app, "DELETE", `/api/workspaces/${ws}`, { token: bob.token })).status).toBe(403);
    expect((await addMember(ws, bob, mallory, "viewer")).status).toBe(403);
    expect((await call(t.app, "GET", `/api/workspaces/${ws}`)).status).toBe(401);
    expect((await call(t.app, "GET", "/api/workspaces/not-a-uuid", { token: alice.token })).status).toBe(404);
  });

  it("takes a removed member's access away at once", async () => {
    const ws = await newWorkspace(alice);
    expect((await addMember(ws, alice, bob, "viewer")).status).toBe(201);
    expect((await call(t.app, "GET", `/api/workspaces/${ws}`, { token: bob.token })).status).toBe(200);
    await call(t.app, "DELETE", `/api/workspaces/${ws}/members/${bob.id}`, { token: alice.token });
    expect((await call(t.app, "GET", `/api/workspaces/${ws}`, { token: bob.token })).status).toBe(404);
  });
});
