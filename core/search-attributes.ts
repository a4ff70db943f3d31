/** Search attributes that let an operator filter Weft runs in the Temporal UI (registered on the cluster). */
import { defineSearchAttributeKey, SearchAttributeType } from "@temporalio/common";
import type { RunStatus } from "./contract.ts";

export const WEFT_WORKFLOW_ID = defineSearchAttributeKey("WeftWorkflowId", SearchAttributeType.KEYWORD);
export const WEFT_OWNER_ID = defineSearchAttributeKey("WeftOwnerId", SearchAttributeType.KEYWORD);
export const WEFT_STATUS = defineSearchAttributeKey("WeftStatus", SearchAttributeType.KEYWORD);
/** The workspace a run belongs to (issue 12): `WeftWorkspaceId = "<id>"` lists one workspace's runs. WeftOwnerId
 * holds the same value (the tenant; a personal workspace's id is its user's) and stays for runs of before. */
export const WEFT_WORKSPACE_ID = defineSearchAttributeKey("WeftWorkspaceId", SearchAttributeType.KEYWORD);

/** `temporal operator search-attribute create` / `server start-dev --search-attribute` arguments. */
export const SEARCH_ATTRIBUTE_DEFINITIONS = [
  "WeftWorkflowId=Keyword",
  "WeftOwnerId=Keyword",
  "WeftStatus=Keyword",
  "WeftWorkspaceId=Keyword",
];

/** The patch behind which scheduled runs' children carry WeftWorkspaceId (workflows/scheduled-run.ts). */
export const WORKSPACE_SEARCH_ATTRIBUTE_PATCH = "weft-workspace-search-attribute";

/** A run's attributes at its start; `withWorkspace`: WeftWorkspaceId too (the tenant is the workspace). */
export function runSearchAttributes(workflowId: string, tenant: string, status: RunStatus, withWorkspace: boolean) {
  return [
    { key: WEFT_WORKFLOW_ID, value: workflowId },
    { key: WEFT_OWNER_ID, value: tenant },
    { key: WEFT_STATUS, value: status },
    ...(withWorkspace ? [{ key: WEFT_WORKSPACE_ID, value: tenant }] : []),
  ];
}
