/** The workflow feature's router: each route with its handler. */
import { createRouter } from "../openapi.ts";
import * as handlers from "./handlers.ts";
import * as routes from "./routes.ts";

export function workflowRoutes() {
  return createRouter()
    .openapi(routes.listWorkflowsRoute, handlers.list)
    .openapi(routes.createWorkflowRoute, handlers.create)
    .openapi(routes.getWorkflowRoute, handlers.get)
    .openapi(routes.updateWorkflowRoute, handlers.update)
    .openapi(routes.deleteWorkflowRoute, handlers.remove)
    .openapi(routes.validateWorkflowRoute, handlers.validate);
}
