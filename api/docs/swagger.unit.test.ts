/** /docs: Swagger UI's page and assets come from the pinned swagger-ui-dist package through the API, no CDN. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { docsRoutes } from "./swagger.ts";

const app = docsRoutes();
const pkg = "node_modules/swagger-ui-dist";

describe("GET /docs", () => {
  it("loads every script and stylesheet from the API itself, with no inline script", async () => {
    const res = await app.request("/docs");
    expect(res.status).toBe(200);
    const html = await res.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs.sort()).toEqual([
      "/docs/assets/favicon-32x32.png",
      "/docs/assets/init.js",
      "/docs/assets/swagger-ui-bundle.js",
      "/docs/assets/swagger-ui.css",
    ]);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>/);
  });

  it("serves the package's own files with their types", async () => {
    for (const [file, type] of [["swagger-ui-bundle.js", "text/javascript"], ["swagger-ui.css", "text/css"]]) {
      const res = await app.request(`/docs/assets/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get("content-type")).toContain(type);
      const served = Buffer.from(await res.arrayBuffer());
      expect(served.equals(readFileSync(`${pkg}/${file}`)), file).toBe(true);
    }
    const init = await (await app.request("/docs/assets/init.js")).text();
    expect(init).toContain('url: "/openapi.json"');
  });

  it("serves nothing else from the package or the disk (unknown names, traversal)", async () => {
    for (const path of ["package.json", "index.html", "..%2F..%2Fpackage.json", "%2e%2e%2fpackage.json"]) {
      expect((await app.request(`/docs/assets/${path}`)).status, path).toBe(404);
    }
    expect((await app.request("/docs/assets/../../package.json")).status).toBe(404);
  });
});
