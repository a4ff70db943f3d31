/**
 * Deleting an account: what its personal workspace holds in Temporal goes first, then the user row, whose
 * foreign keys cascade to that workspace (its workflows, runs, node executions, events, secrets, hooks, schedules,
 * idempotency keys and vector collections) and to the account's memberships. Running workflows are terminated
 * last, best effort (api/engine-cleanup.ts). The last owner of a team workspace is refused: the team would be
 * left with no one who can manage it.
 */
import { deleteSchedulesOf, terminateWorkflows, unfinishedWorkflowsOf } from "../engine-cleanup.ts";
import type { Services } from "../env.ts";
import { ApiError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { lastOwnerOf } from "../workspaces/store.ts";

export async function deleteAccount(services: Services, logger: Logger, userId: string): Promise<void> {
  // Its personal workspace (whose id is the user's); what it made in team workspaces stays with the team.
  const scope = { workspaceId: userId };
  const orphaned = await lastOwnerOf(services.sql, userId);
  if (orphaned.length) {
    throw new ApiError(
      "CONFLICT",
      "this account is the last owner of a team workspace: make someone else an owner, or delete the workspace",
      { workspace_ids: orphaned },
    );
  }
  const schedules = await deleteSchedulesOf(services, logger, scope, "account");
  const workflowIds = await unfinishedWorkflowsOf(services, scope);
  const owned = await services.sql`DELETE FROM users WHERE id = ${userId} RETURNING id`;
  if (!owned.length) throw new ApiError("UNAUTHORIZED", "the account for this token no longer exists");
  await terminateWorkflows(services, logger, workflowIds, "the account that owned this workflow was deleted");
  logger.info("account deleted", { user_id: userId, schedules: schedules, workflows: workflowIds.length });
}
