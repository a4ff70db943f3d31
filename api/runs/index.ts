/** The run feature's router: each route with its handler (approvals, events and search are sub-features). */
import { createRouter } from "../openapi.ts";
import { approvalRoutes } from "./approve.ts";
import * as handlers from "./handlers.ts";
import { retry } from "./retry.ts";
import * as routes from "./routes.ts";

export function runRoutes() {
  return createRouter()
    .route("/", approvalRoutes())
    .openapi(routes.executeRoute, handlers.execute)
    .openapi(routes.listRunsRoute, handlers.list)
    .openapi(routes.getRunRoute, handlers.get)
    .openapi(routes.retryRunRoute, retry)
    .openapi(routes.cancelRunRoute, handlers.cancel);
}
