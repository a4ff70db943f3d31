/** The trigger feature's router: each route with its handler. */
import { createRouter } from "../openapi.ts";
import * as handlers from "./handlers.ts";
import * as routes from "./routes.ts";

export function triggerRoutes() {
  return createRouter()
    .openapi(routes.webhookRoute, handlers.webhook)
    .openapi(routes.rotateHookRoute, handlers.rotateHook)
    .openapi(routes.getHookRoute, handlers.getHookStatus)
    .openapi(routes.disableHookRoute, handlers.disable)
    .openapi(routes.listSchedulesRoute, handlers.schedules)
    .openapi(routes.createScheduleRoute, handlers.createSchedule)
    .openapi(routes.deleteScheduleRoute, handlers.removeSchedule);
}
