/**
 * GET /docs: Swagger UI served from the pinned npm package `swagger-ui-dist` by the API itself, so the page works
 * in a cluster without internet (no CDN). The page has no inline script, so a strict CSP (script-src 'self') holds.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Hono } from "hono";

const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

// Resolved through Node's resolution (Deno honours it too) so it finds the package wherever node_modules is.
const distDir = () => dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>Weft API</title>
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" />
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>
`;

// persistAuthorization keeps a pasted bearer token across reloads; tryItOutEnabled opens every form ready to send.
const INIT = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  tryItOutEnabled: true,
});
`;

export function docsRoutes() {
  const app = new Hono();
  const cache = new Map<string, Uint8Array<ArrayBuffer>>();
  app.get("/docs", (c) => c.html(PAGE));
  app.get(
    "/docs/assets/init.js",
    (c) => c.body(INIT, 200, { "content-type": ASSETS["swagger-ui-bundle.js"], "cache-control": "no-cache" }),
  );
  app.get("/docs/assets/:file", async (c) => {
    const file = c.req.param("file");
    const type = ASSETS[file];
    if (!type) return c.notFound();
    let body = cache.get(file);
    if (!body) {
      body = new Uint8Array(await readFile(join(distDir(), file))) as Uint8Array<ArrayBuffer>;
      cache.set(file, body);
    }
    // The package version is pinned; a day's caching spares a reload of the 1.5 MB bundle.
    return c.body(body, 200, { "content-type": type, "cache-control": "public, max-age=86400" });
  });
  return app;
}
