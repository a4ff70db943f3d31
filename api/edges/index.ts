/** The edge feature's router: each route with its handler. */
import { createRouter } from "../openapi.ts";
import * as handlers from "./handlers.ts";
import * as routes from "./routes.ts";

export function edgeRoutes() {
  return createRouter()
    .openapi(routes.listEdgesRoute, handlers.list)
    .openapi(routes.createEdgeRoute, handlers.create)
    .openapi(routes.getEdgeRoute, handlers.get)
    .openapi(routes.deleteEdgeRoute, handlers.remove);
}
