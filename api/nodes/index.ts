/** The node feature's router: each route with its handler. */
import { createRouter } from "../openapi.ts";
import * as handlers from "./handlers.ts";
import * as routes from "./routes.ts";

export function nodeRoutes() {
  return createRouter()
    .openapi(routes.listNodesRoute, handlers.list)
    .openapi(routes.createNodeRoute, handlers.create)
    .openapi(routes.getNodeRoute, handlers.get)
    .openapi(routes.updateNodeRoute, handlers.update)
    .openapi(routes.deleteNodeRoute, handlers.remove);
}
