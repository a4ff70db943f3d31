/** Search attributes that let an operator filter Weft runs in the Temporal UI (registered on the cluster). */
import { defineSearchAttributeKey, SearchAttributeType } from "@temporalio/common";
import type { RunStatus } from "./contract.ts";

export const WEFT_WORKFLOW_ID = defineSearchAttributeKey("WeftWorkflowId", SearchAttributeType.KEYWORD);
export const WEFT_OWNER_ID = defineSearchAttributeKey("WeftOwnerId", SearchAttributeType.KEYWORD);
export const WEFT_STATUS = defineSearchAttributeKey("WeftStatus", SearchAttributeType.KEYWORD);

/** `temporal operator search-attribute create` / `server start-dev --search-attribute` arguments. */
export const SEARCH_ATTRIBUTE_DEFINITIONS = ["WeftWorkflowId=Keyword", "WeftOwnerId=Keyword", "WeftStatus=Keyword"];

export function runSearchAttributes(workflowId: string, ownerId: string, status: RunStatus) {
  return [
    { key: WEFT_WORKFLOW_ID, value: workflowId },
    { key: WEFT_OWNER_ID, value: ownerId },
    { key: WEFT_STATUS, value: status },
  ];
}
