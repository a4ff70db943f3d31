/** The vector feature's router: each route with its handler. */
import { createRouter } from "../openapi.ts";
import * as handlers from "./handlers.ts";
import * as routes from "./routes.ts";

export function vectorRoutes() {
  return createRouter()
    .openapi(routes.listCollectionsRoute, handlers.list)
    .openapi(routes.createCollectionRoute, handlers.create)
    .openapi(routes.getCollectionRoute, handlers.get)
    .openapi(routes.deleteCollectionRoute, handlers.remove)
    .openapi(routes.addDocumentsRoute, handlers.addDocuments)
    .openapi(routes.getIngestionRoute, handlers.ingestion)
    .openapi(routes.searchRoute, handlers.search);
}
