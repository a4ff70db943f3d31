/** Builds the Hono app from its services; runtime-neutral so tests can call app.request() under Node. */
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import { authRoutes } from "./auth/index.ts";
import { requireAuth } from "./auth/middleware.ts";
import { TokenService } from "./auth/tokens.ts";
import { Passwords } from "./auth/passwords.ts";
import { edgeRoutes } from "./edges/index.ts";
import type { AppServices, Services } from "./env.ts";
import { ApiError, errorBody, onError } from "./errors.ts";
import { healthRoutes } from "./health.ts";
import { inputGuard } from "./input-guard.ts";
import { loggedPath } from "./logged-path.ts";
import { baseSecurityHeaders, docsContentSecurityPolicy, noStore } from "./security-headers.ts";
import { nodeRoutes } from "./nodes/index.ts";
import { createRouter } from "./openapi.ts";
import { RunEventHub } from "./runs/event-hub.ts";
import { runRoutes } from "./runs/index.ts";
import { RunReconciler } from "./runs/reconcile.ts";
import { secretRoutes } from "./secrets/index.ts";
import { SecretKeys } from "./secrets/keys.ts";
import { codecRoutes } from "./codec.ts";
import { docsRoutes } from "./docs/swagger.ts";
import { temporalUiProxyRoutes } from "./temporal-ui-proxy.ts";
import { triggerRoutes } from "./triggers/index.ts";
import { vectorRoutes } from "./vectors/index.ts";
import { WorkflowCache } from "./workflows/cache.ts";
import { workflowRoutes } from "./workflows/index.ts";
import { ownedWorkflow } from "./workflows/owned.ts";
import { AccessCache } from "./workspaces/access-cache.ts";
import { workspaceAccess } from "./workspaces/access.ts";
import { workspaceRoutes } from "./workspaces/index.ts";
import { versionRoutes } from "./workflows/versions.ts";

const PUBLIC_API_PATHS = new Set(["/api/auth/register", "/api/auth/login"]);
// Webhooks carry their own credential: the token in the path.
const isPublicPath = (path: string) =>
  PUBLIC_API_PATHS.has(path) || path.startsWith("/api/hooks/") || path === "/api/codec/session";
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The process-wide services the app owns: the read cache (listening when enabled), the access cache (always
 * listening), the reconcile throttle, the secrets keys, tokens and passwords, and the run-event hub unless the
 * caller made it (main closes it on shutdown).
 */
function createServices(input: AppServices): Services {
  const { config, sql, logger } = input;
  const services: Services = {
    ...input,
    events: input.events ?? new RunEventHub(sql, logger),
    reconciler: new RunReconciler(input),
    secretKeys: new SecretKeys(config),
    tokens: new TokenService(config),
    accessCache: new AccessCache(),
    passwords: new Passwords(config.BCRYPT_COST),
  };
  void services.accessCache.listen(sql, logger);
  if (config.WEFT_READ_CACHE) {
    services.workflowCache = new WorkflowCache();
    void services.workflowCache.listen(sql, logger);
  }
  return services;
}

/** Builds the app from the services it is given (api/main.ts; test/helpers.ts). */
export function createApp(input: AppServices) {
  const services = createServices(input);
  const app = createRouter();
  const { tokens } = services;
  const auth = requireAuth(tokens);

  app.use(requestId({ headerName: "X-Request-Id" }));
  // Request durations by route template for Prometheus (api/metrics.ts), served on WEFT_METRICS_PORT.
  if (services.metrics) app.use(services.metrics.middleware);
  app.use(async (c, next) => {
    const logger = services.logger.child({ request_id: c.get("requestId") });
    c.set("services", services);
    c.set("logger", logger);
    const started = performance.now();
    await next();
    if (services.config.LOG_REQUESTS) {
      logger.info("request", {
        method: c.req.method,
        path: loggedPath(c.req.path),
        status: c.res.status,
        duration_ms: Math.round((performance.now() - started) * 100) / 100,
      });
    }
  });
  app.use(baseSecurityHeaders());
  app.use("/api/auth/*", noStore());
  app.use("/docs", docsContentSecurityPolicy());
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError("PAYLOAD_TOO_LARGE", `request body is larger than ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );
  app.use("/api/*", inputGuard());
  // The Temporal UI calls the codec endpoints from the browser: CORS for its origin, preflights unauthenticated.
  app.use(
    "/api/codec/*",
    cors({
      origin: new URL(services.config.TEMPORAL_UI_URL).origin,
      allowHeaders: ["Authorization", "Content-Type", "X-Namespace"],
      allowMethods: ["POST", "OPTIONS"],
      // How many payloads of other tenants a decode left sealed (api/codec.ts).
      exposeHeaders: ["X-Weft-Codec-Refused"],
      credentials: true,
    }),
  );
  app.use("/api/*", (c, next) => (isPublicPath(c.req.path) ? next() : auth(c, next)));
  // Every /api/ route's entry in the role table, enforced here and nowhere else (api/workspaces/roles.ts).
  app.use("/api/*", workspaceAccess());
  app.use("/api/workflows/:id/*", ownedWorkflow());

  app.route("/", healthRoutes());
  app.route("/", authRoutes());
  app.route("/", workflowRoutes());
  app.route("/", versionRoutes());
  app.route("/", nodeRoutes());
  app.route("/", edgeRoutes());
  app.route("/", runRoutes());
  app.route("/", triggerRoutes());
  app.route("/", secretRoutes());
  app.route("/", codecRoutes(tokens));
  app.route("/", vectorRoutes());
  app.route("/", workspaceRoutes());

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Weft API",
      version: "0.1.0",
      description: "Durable AI workflows on Temporal: build a graph of nodes and edges, execute it, inspect every run.",
    },
  });
  app.route("/", docsRoutes()); // Swagger UI from the swagger-ui-dist package (api/docs/swagger.ts)
  // The Temporal UI under /temporal/, same origin as the codec (api/temporal-ui-proxy.ts; dev, or the Helm chart).
  if (services.config.TEMPORAL_UI_PROXY_URL) {
    app.route("/", temporalUiProxyRoutes(services.config.TEMPORAL_UI_PROXY_URL, tokens));
  }

  app.notFound((c) =>
    c.json(errorBody(c, new ApiError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`)), 404)
  );
  app.onError(onError);
  return app;
}

export type WeftApp = ReturnType<typeof createApp>;
