/** The workspaces feature's router: workspaces, members, API keys and the audit log, each route with its handler. */
import { createRouter } from "../openapi.ts";
import * as apiKeys from "./api-keys.handlers.ts";
import * as apiKeyRoutes from "./api-keys.routes.ts";
import * as audit from "./audit.handlers.ts";
import * as auditRoutes from "./audit.routes.ts";
import * as workspaces from "./workspaces.handlers.ts";
import * as routes from "./workspaces.routes.ts";

export function workspaceRoutes() {
  const router = createRouter();
  // The audit log's NDJSON export answers before the typed JSON route (audit.handlers.ts).
  router.use("/api/workspaces/:id/audit", audit.exportNdjson);
  return router
    .openapi(routes.listWorkspacesRoute, workspaces.list)
    .openapi(routes.createWorkspaceRoute, workspaces.create)
    .openapi(routes.getWorkspaceRoute, workspaces.get)
    .openapi(routes.updateWorkspaceRoute, workspaces.update)
    .openapi(routes.deleteWorkspaceRoute, workspaces.remove)
    .openapi(routes.listMembersRoute, workspaces.listMembers)
    .openapi(routes.addMemberRoute, workspaces.addMember)
    .openapi(routes.updateMemberRoute, workspaces.updateMember)
    .openapi(routes.removeMemberRoute, workspaces.removeMember)
    .openapi(apiKeyRoutes.listApiKeysRoute, apiKeys.list)
    .openapi(apiKeyRoutes.createApiKeyRoute, apiKeys.create)
    .openapi(apiKeyRoutes.revokeApiKeyRoute, apiKeys.revoke)
    .openapi(auditRoutes.listAuditRoute, audit.list);
}
