/**
 * TemporalApi over Temporal's HTTP API (the frontend's JSON gateway under /api/v1, port 7243 by default) with
 * plain fetch: no gRPC, so no HTTP/2 client inside the Deno process. Payloads travel in their full form, so the
 * data converter's encryption applies exactly as with the SDK's client.
 */
import {
  GrpcCode,
  InvalidArgumentError,
  ScheduleNotFoundError,
  type ScheduleOptions,
  type StartWorkflowOptions,
  type TemporalApi,
  WorkflowAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from "./client.ts";
import { workflowResult } from "./http-result.ts";
import {
  type Json,
  type JsonFailure,
  LONG_POLL_TIMEOUT_MS,
  rethrowAs,
  type TemporalHttpOptions,
  TemporalHttpTransport,
} from "./http-transport.ts";
import { type JsonPayloads, keywordSearchAttribute, PayloadJson, toBase64 } from "./payloads.ts";
import { traceHeaders } from "../../core/tracing.ts";
import { TEMPORAL_TRACE_HEADER } from "../../core/trace-header.ts";

export type { TemporalHttpOptions } from "./http-transport.ts";

export class TemporalHttpClient implements TemporalApi {
  private readonly payloads: PayloadJson;
  private readonly http: TemporalHttpTransport;
  private readonly identity: string;

  constructor(options: TemporalHttpOptions) {
    this.payloads = new PayloadJson(options.codec);
    this.http = new TemporalHttpTransport(options, this.payloads);
    this.identity = options.identity ?? "weft-api";
  }

  private call<T = Json>(...args: Parameters<TemporalHttpTransport["call"]>): Promise<T> {
    return this.http.call<T>(...args);
  }

  private ns(path: string) {
    return this.http.ns(path);
  }

  private context(workflowId: string) {
    return this.http.context(workflowId);
  }

  async systemInfo(signal?: AbortSignal) {
    return await this.call<{ serverVersion?: string }>("GET", "/api/v1/system-info", undefined, { signal });
  }

  async startWorkflow(workflowType: string, options: StartWorkflowOptions) {
    const body: Json = {
      workflowId: options.workflowId,
      workflowType: { name: workflowType },
      taskQueue: { name: options.taskQueue },
      input: await this.payloads.encode(options.args, this.context(options.workflowId)),
      identity: this.identity,
      requestId: crypto.randomUUID(),
    };
    // The active trace, in the header @temporalio/interceptors-opentelemetry reads in the worker: a json/plain
    // payload of the W3C fields. Headers do not pass through the payload codec (as with the SDK's client).
    const trace = traceHeaders();
    if (trace.traceparent) {
      const json = (v: unknown) => toBase64(new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v)));
      body.header = {
        fields: { [TEMPORAL_TRACE_HEADER]: { metadata: { encoding: json("json/plain") }, data: json(trace) } },
      };
    }
    if (options.executionTimeout) body.workflowExecutionTimeout = options.executionTimeout;
    if (options.rejectDuplicate) body.workflowIdReusePolicy = "WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE";
    if (options.searchAttributes) {
      body.searchAttributes = {
        indexedFields: Object.fromEntries(
          Object.entries(options.searchAttributes).map(([k, v]) => [k, keywordSearchAttribute(v)]),
        ),
      };
    }
    try {
      const res = await this.call<{ runId: string }>(
        "POST",
        this.ns(`/workflows/${encodeURIComponent(options.workflowId)}`),
        body,
      );
      return { runId: res.runId };
    } catch (err) {
      throw rethrowAs(err, GrpcCode.ALREADY_EXISTS, WorkflowAlreadyStartedError);
    }
  }

  async executeWorkflow(workflowType: string, options: StartWorkflowOptions) {
    const { runId } = await this.startWorkflow(workflowType, options);
    return await workflowResult(this.http, this.payloads, options.workflowId, runId);
  }

  async workflowStatus(workflowId: string) {
    try {
      const res = await this.call<{ workflowExecutionInfo?: { status?: string } }>(
        "GET",
        this.ns(`/workflows/${encodeURIComponent(workflowId)}`),
      );
      return (res.workflowExecutionInfo?.status ?? "WORKFLOW_EXECUTION_STATUS_UNSPECIFIED")
        .replace(/^WORKFLOW_EXECUTION_STATUS_/, "");
    } catch (err) {
      throw rethrowAs(err, GrpcCode.NOT_FOUND, WorkflowNotFoundError);
    }
  }

  async workflowRunId(workflowId: string) {
    try {
      const res = await this.call<{ workflowExecutionInfo?: { execution?: { runId?: string } } }>(
        "GET",
        this.ns(`/workflows/${encodeURIComponent(workflowId)}`),
      );
      const runId = res.workflowExecutionInfo?.execution?.runId;
      if (!runId) throw new WorkflowNotFoundError(`workflow ${workflowId} has no execution`, GrpcCode.NOT_FOUND, 200);
      return runId;
    } catch (err) {
      throw rethrowAs(err, GrpcCode.NOT_FOUND, WorkflowNotFoundError);
    }
  }

  async taskQueuePollers(taskQueue: string) {
    const count = async (type: string) => {
      const res = await this.call<{ pollers?: unknown[] }>(
        "GET",
        this.ns(`/task-queues/${encodeURIComponent(taskQueue)}`),
        undefined,
        { query: { taskQueueType: type }, timeoutMs: 2000 },
      );
      return res.pollers?.length ?? 0;
    };
    const [workflow, activity] = await Promise.all([
      count("TASK_QUEUE_TYPE_WORKFLOW"),
      count("TASK_QUEUE_TYPE_ACTIVITY"),
    ]);
    return { workflow, activity };
  }

  async cancelWorkflow(workflowId: string) {
    try {
      await this.call("POST", this.ns(`/workflows/${encodeURIComponent(workflowId)}/cancel`), {
        workflowExecution: { workflowId },
        identity: this.identity,
        requestId: crypto.randomUUID(),
      });
    } catch (err) {
      throw rethrowAs(err, GrpcCode.NOT_FOUND, WorkflowNotFoundError);
    }
  }

  async terminateWorkflow(workflowId: string, reason: string) {
    try {
      await this.call("POST", this.ns(`/workflows/${encodeURIComponent(workflowId)}/terminate`), {
        workflowExecution: { workflowId },
        reason,
        identity: this.identity,
      });
    } catch (err) {
      throw rethrowAs(err, GrpcCode.NOT_FOUND, WorkflowNotFoundError);
    }
  }

  async signalWorkflow(workflowId: string, signalName: string, args: unknown[]) {
    const path = this.ns(`/workflows/${encodeURIComponent(workflowId)}/signal/${encodeURIComponent(signalName)}`);
    try {
      await this.call("POST", path, {
        workflowExecution: { workflowId },
        signalName,
        input: await this.payloads.encode(args, this.context(workflowId)),
        identity: this.identity,
        requestId: crypto.randomUUID(),
      });
    } catch (err) {
      throw rethrowAs(err, GrpcCode.NOT_FOUND, WorkflowNotFoundError);
    }
  }

  async executeUpdate(workflowId: string, updateName: string, args: unknown[]) {
    const body = {
      workflowExecution: { workflowId },
      waitPolicy: { lifecycleStage: "UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED" },
      request: {
        meta: { updateId: crypto.randomUUID(), identity: this.identity },
        input: { name: updateName, args: await this.payloads.encode(args, this.context(workflowId)) },
      },
    };
    const path = this.ns(`/workflows/${encodeURIComponent(workflowId)}/update/${encodeURIComponent(updateName)}`);
    // The server answers once the update completes or its long poll expires; the same update id then asks
    // again for the same update (the HTTP API has no PollWorkflowExecutionUpdate).
    for (;;) {
      let res: { outcome?: { success?: JsonPayloads; failure?: JsonFailure } };
      try {
        res = await this.call("POST", path, body, { timeoutMs: LONG_POLL_TIMEOUT_MS });
      } catch (err) {
        throw rethrowAs(err, GrpcCode.NOT_FOUND, WorkflowNotFoundError);
      }
      if (res.outcome?.failure) throw new WorkflowUpdateFailedError((await this.http.toFailure(res.outcome.failure))!);
      if (res.outcome) return (await this.payloads.decode(res.outcome.success))[0];
    }
  }

  async createSchedule(scheduleId: string, options: ScheduleOptions) {
    const { action } = options;
    const body = {
      schedule: {
        spec: { cronString: [options.cron], timezoneName: options.timezone },
        action: {
          startWorkflow: {
            workflowId: action.workflowId,
            workflowType: { name: action.workflowType },
            taskQueue: { name: action.taskQueue },
            input: await this.payloads.encode(action.args, this.context(action.workflowId)),
          },
        },
        policies: { overlapPolicy: "SCHEDULE_OVERLAP_POLICY_ALLOW_ALL", catchupWindow: options.catchupWindow },
        state: { paused: options.paused, notes: options.note },
      },
      memo: await this.payloads.encodeFields(options.memo, this.context(action.workflowId)),
      identity: this.identity,
      requestId: crypto.randomUUID(),
    };
    try {
      await this.call("POST", this.ns(`/schedules/${encodeURIComponent(scheduleId)}`), body);
    } catch (err) {
      throw rethrowAs(err, GrpcCode.INVALID_ARGUMENT, InvalidArgumentError);
    }
  }

  async deleteSchedule(scheduleId: string) {
    try {
      await this.call("DELETE", this.ns(`/schedules/${encodeURIComponent(scheduleId)}`), undefined, {
        query: { identity: this.identity },
      });
    } catch (err) {
      throw rethrowAs(err, GrpcCode.NOT_FOUND, ScheduleNotFoundError);
    }
  }
}
