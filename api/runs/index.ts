/** The run feature's router: each route with its handler. */
import { createRouter } from "../openapi.ts";
import * as controlHandlers from "./control-handlers.ts";
import * as controlRoutes from "./control-routes.ts";
import { streamRunEvents } from "./events.ts";
import * as handlers from "./handlers.ts";
import { retry } from "./retry.ts";
import * as routes from "./routes.ts";
import { searchRuns } from "./search.ts";

export function runRoutes() {
  return createRouter()
    .openapi(routes.approveRoute, handlers.approve)
    .openapi(routes.executeRoute, handlers.execute)
    .openapi(routes.listRunsRoute, handlers.list)
    .openapi(routes.getRunRoute, handlers.get)
    .openapi(routes.retryRunRoute, retry)
    .openapi(routes.cancelRunRoute, handlers.cancel)
    // GET /api/runs across the caller's workflows (search.ts).
    .openapi(routes.searchRunsRoute, searchRuns)
    .openapi(routes.runEventsRoute, streamRunEvents)
    .openapi(controlRoutes.signalRoute, controlHandlers.signal)
    .openapi(controlRoutes.mapItemsRoute, controlHandlers.mapItems);
}
