/** The auth feature's router: each route with its handler. */
import { createRouter } from "../openapi.ts";
import * as handlers from "./handlers.ts";
import * as routes from "./routes.ts";

export function authRoutes() {
  return createRouter()
    .openapi(routes.registerRoute, handlers.register)
    .openapi(routes.loginRoute, handlers.login)
    .openapi(routes.meRoute, handlers.me)
    .openapi(routes.deleteMeRoute, handlers.deleteMe);
}
