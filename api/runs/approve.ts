/** Deciding an approval node: the decision goes to the run's workflow as a Temporal update. */
import { createRoute, z } from "@hono/zod-openapi";
import { approveUpdate, updateArgs } from "../../core/contract.ts";
import { NODE_NAME_PATTERN } from "../../core/node-types.ts";
import { ApiError } from "../errors.ts";
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from "../temporal/client.ts";
import { FINAL_RUN_STATUSES, getOwnedRun } from "./store.ts";
import { bearerSecurity, createRouter, errorResponses, ErrorSchema, jsonBody, jsonResponse, uuid } from "../openapi.ts";

const Params = z.object({
  id: uuid.openapi({ param: { name: "id", in: "path" } }),
  run_id: uuid.openapi({ param: { name: "run_id", in: "path" } }),
  node_name: z.string().regex(NODE_NAME_PATTERN).openapi({ param: { name: "node_name", in: "path" } }),
});

const ApproveBody = z.object({
  approved: z.boolean(),
  data: z.unknown().optional().openapi({ description: "Anything the reviewer adds; the node's output carries it" }),
}).strict().openapi("ApproveRequest");

const approveRoute = createRoute({
  method: "post",
  path: "/api/workflows/{id}/runs/{run_id}/nodes/{node_name}/approve",
  tags: ["runs"],
  security: bearerSecurity,
  summary: "Approve or reject a waiting approval node",
  request: { params: Params, ...jsonBody(ApproveBody) },
  responses: {
    200: jsonResponse(
      "Decision recorded",
      z.object({ run_id: z.string(), node_name: z.string(), approved: z.boolean() }),
    ),
    409: jsonResponse("The node is not waiting for a decision", ErrorSchema),
    ...errorResponses,
  },
});

export function approvalRoutes() {
  const app = createRouter();
  app.openapi(approveRoute, async (c) => {
    const { sql, temporal } = c.get("services");
    const { id, run_id, node_name } = c.req.valid("param");
    const body = c.req.valid("json");
    const user = c.get("user");
    const run = await getOwnedRun(sql, id, run_id, user.id);
    if (FINAL_RUN_STATUSES.has(run.status as string)) {
      throw new ApiError("CONFLICT", `the run has already finished (${run.status})`);
    }
    try {
      await temporal.executeUpdate(
        run.temporal_workflow_id as string,
        approveUpdate.name,
        updateArgs(approveUpdate, {
          node_name,
          approved: body.approved,
          data: body.data ?? null,
          decided_by: user.email,
        }),
      );
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        throw new ApiError("CONFLICT", err.failure.message || `node "${node_name}" is not waiting for approval`);
      }
      if (err instanceof WorkflowNotFoundError) throw new ApiError("CONFLICT", "the run has already finished");
      throw err;
    }
    return c.json({ run_id, node_name, approved: body.approved }, 200);
  });
  return app;
}
