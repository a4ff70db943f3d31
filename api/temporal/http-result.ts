/** Waiting for a workflow's result over Temporal's HTTP API: a long poll on its history's close event. */
import { GrpcCode, WorkflowFailedError, WorkflowNotFoundError } from "./client.ts";
import {
  type Json,
  type JsonFailure,
  LONG_POLL_TIMEOUT_MS,
  rethrowAs,
  type TemporalHttpTransport,
} from "./http-transport.ts";
import type { JsonPayloads, PayloadJson } from "./payloads.ts";

/** Follows continue-as-new to the last run and reads its result, or throws its failure as WorkflowFailedError. */
export async function workflowResult(
  http: TemporalHttpTransport,
  payloads: PayloadJson,
  workflowId: string,
  firstRunId: string,
): Promise<unknown> {
  let runId = firstRunId;
  let pageToken = "";
  for (;;) {
    const query: Record<string, string> = {
      "execution.runId": runId,
      waitNewEvent: "true",
      historyEventFilterType: "HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT",
    };
    if (pageToken) query.nextPageToken = pageToken;
    let res: { history?: { events?: Json[] }; nextPageToken?: string };
    try {
      res = await http.call("GET", http.ns(`/workflows/${encodeURIComponent(workflowId)}/history`), undefined, {
        query,
        timeoutMs: LONG_POLL_TIMEOUT_MS,
      });
    } catch (err) {
      throw rethrowAs(err, GrpcCode.NOT_FOUND, WorkflowNotFoundError);
    }
    const event = res.history?.events?.[0];
    if (!event) {
      pageToken = res.nextPageToken ?? "";
      continue;
    }
    pageToken = "";
    const attrs = (key: string) => (event[key] ?? {}) as Json;
    switch (event.eventType) {
      case "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED": {
        const [value] = await payloads.decode(
          attrs("workflowExecutionCompletedEventAttributes").result as JsonPayloads,
        );
        return value;
      }
      case "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW":
        runId = attrs("workflowExecutionContinuedAsNewEventAttributes").newExecutionRunId as string;
        continue;
      case "EVENT_TYPE_WORKFLOW_EXECUTION_FAILED":
        throw new WorkflowFailedError(
          "Workflow execution failed",
          await http.toFailure(attrs("workflowExecutionFailedEventAttributes").failure as JsonFailure),
        );
      case "EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT":
        throw new WorkflowFailedError("Workflow execution timed out");
      case "EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED":
        throw new WorkflowFailedError("Workflow execution cancelled");
      case "EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED": {
        const reason = attrs("workflowExecutionTerminatedEventAttributes").reason;
        throw new WorkflowFailedError(`Workflow execution terminated${reason ? `: ${reason}` : ""}`);
      }
      default:
        throw new WorkflowFailedError(`Workflow execution closed with ${event.eventType}`);
    }
  }
}
