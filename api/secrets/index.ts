/** The secret feature's router: each route with its handler. */
import { createRouter } from "../openapi.ts";
import * as handlers from "./handlers.ts";
import * as routes from "./routes.ts";

export function secretRoutes() {
  return createRouter()
    .openapi(routes.listSecretsRoute, handlers.list)
    .openapi(routes.createSecretRoute, handlers.create)
    .openapi(routes.updateSecretRoute, handlers.update)
    .openapi(routes.deleteSecretRoute, handlers.remove);
}
