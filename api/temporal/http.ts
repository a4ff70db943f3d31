/**
 * TemporalApi over Temporal's HTTP API (the frontend's JSON gateway under /api/v1, port 7243 by default) with
 * plain fetch: no gRPC, so no HTTP/2 client inside the Deno process. Payloads travel in their full form, so the
 * data converter's encryption applies exactly as with the SDK's client.
 */
import type { PayloadCodec } from "@temporalio/common";
import {
  GrpcCode,
  InvalidArgumentError,
  ScheduleNotFoundError,
  type ScheduleOptions,
  type StartWorkflowOptions,
  type TemporalApi,
  type TemporalFailure,
  TemporalServiceError,
  WorkflowAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from "./client.ts";
import { type JsonPayloads, keywordSearchAttribute, PayloadJson, toBase64 } from "./payloads.ts";
import { traceHeaders } from "../../core/tracing.ts";
import { TEMPORAL_TRACE_HEADER } from "../../core/trace-header.ts";

export interface TemporalHttpOptions {
  /** The HTTP API's base URL, e.g. http://127.0.0.1:7243. */
  url: string;
  namespace: string;
  /** Sent as `Authorization: Bearer` (Temporal Cloud API keys). */
  apiKey?: string;
  /** The payload codec of Weft's data converter (encryption), when one is configured. */
  codec?: PayloadCodec;
  /** The transport: the global fetch by default; the API process passes one with its TLS settings. */
  fetch?: typeof fetch;
  identity?: string;
}

/** Ordinary calls; long polls (updates, waiting for a result) get their own, longer limit. */
const CALL_TIMEOUT_MS = 15_000;
const LONG_POLL_TIMEOUT_MS = 90_000;

/**
 * Full payloads in both directions: the content type makes the server read request payloads as
 * {metadata, data} only, and the query parameter makes it write them so in answers (its default "shorthand"
 * form would show JSON payloads as plain values).
 */
const CONTENT_TYPE = "application/json+no-payload-shorthand";
const NO_SHORTHAND = "noPayloadShorthand";

type Json = Record<string, unknown>;

interface JsonFailure {
  message?: string;
  cause?: JsonFailure;
  applicationFailureInfo?: { type?: string };
  /** The message and stack trace, encoded by the worker's failure converter (core/failure-converter.ts). */
  encodedAttributes?: JsonPayloads["payloads"] extends (infer P)[] | undefined ? P : never;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TemporalHttpClient implements TemporalApi {
  private readonly base: string;
  private readonly payloads: PayloadJson;
  private readonly fetch: typeof fetch;
  private readonly identity: string;

  constructor(private readonly options: TemporalHttpOptions) {
    this.base = options.url.replace(/\/+$/, "");
    this.payloads = new PayloadJson(options.codec);
    this.fetch = options.fetch ?? fetch;
    this.identity = options.identity ?? "weft-api";
  }

  /** The payload context of a workflow: the codec seals its payloads under the workflow's tenant. */
  private context(workflowId: string) {
    return { type: "workflow" as const, namespace: this.options.namespace, workflowId };
  }

  /** A failure as the API reads it, its encoded message and stack trace decoded. */
  private async toFailure(f: JsonFailure | undefined): Promise<TemporalFailure | undefined> {
    if (!f) return undefined;
    let message = f.message ?? "";
    if (f.encodedAttributes) {
      const [attrs] = await this.payloads.decode({ payloads: [f.encodedAttributes] });
      message = (attrs as { message?: string } | undefined)?.message ?? message;
    }
    return { message, type: f.applicationFailureInfo?.type, cause: await this.toFailure(f.cause) };
  }

  private ns(path: string) {
    return `/api/v1/namespaces/${encodeURIComponent(this.options.namespace)}${path}`;
  }

  /**
   * One call. A network failure is tried once more: every call here is safe to repeat (starts and schedule
   * creation carry a request id, updates an update id), and a pooled connection the server closed fails once.
   */
  private async call<T = Json>(
    method: string,
    path: string,
    body?: unknown,
    { query = {}, timeoutMs = CALL_TIMEOUT_MS, signal }: {
      query?: Record<string, string>;
      timeoutMs?: number;
      signal?: AbortSignal;
    } = {},
  ): Promise<T> {
    const params = new URLSearchParams({ ...query, [NO_SHORTHAND]: "" });
    const url = `${this.base}${path}?${params}`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = CONTENT_TYPE;
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    let res: Response;
    for (let attempt = 1;; attempt++) {
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        res = await this.fetch(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        break;
      } catch (err) {
        const aborted = (err as Error).name === "AbortError" || (err as Error).name === "TimeoutError";
        if (attempt < 2 && !aborted) {
          await sleep(50);
          continue;
        }
        // Deno's fetch says only "fetch failed"; the reason is in its cause.
        const cause = (err as Error).cause as Error | undefined;
        throw new TemporalServiceError(
          `Temporal's HTTP API at ${this.base} did not answer: ${(err as Error).message}${
            cause?.message ? ` (${cause.message})` : ""
          }`,
          aborted ? GrpcCode.DEADLINE_EXCEEDED : GrpcCode.UNAVAILABLE,
          0,
        );
      }
    }
    const text = await res.text();
    let parsed: Json = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      // A proxy's HTML error page, say: reported by status below.
    }
    if (!res.ok) {
      const code = typeof parsed.code === "number" ? parsed.code : GrpcCode.UNAVAILABLE;
      const message = typeof parsed.message === "string" ? parsed.message : `HTTP ${res.status}: ${text.slice(0, 200)}`;
      throw new TemporalServiceError(message, code, res.status, (parsed.details as unknown[]) ?? []);
    }
    return parsed as T;
  }

  /** Re-throws `err` as `Kind` when Temporal answered with `code`. */
  private static as(
    err: unknown,
    code: number,
    Kind: new (m: string, c: number, s: number, d: unknown[]) => TemporalServiceError,
  ): unknown {
    if (err instanceof TemporalServiceError && err.code === code) {
      return new Kind(err.message, err.code, err.httpStatus, err.details);
    }
    return err;
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
      throw TemporalHttpClient.as(err, GrpcCode.ALREADY_EXISTS, WorkflowAlreadyStartedError);
    }
  }

  async executeWorkflow(workflowType: string, options: StartWorkflowOptions) {
    const { runId } = await this.startWorkflow(workflowType, options);
    return await this.result(options.workflowId, runId);
  }

  /** Waits for the run's close event (a long poll on its history) and reads the result or the failure. */
  private async result(workflowId: string, firstRunId: string): Promise<unknown> {
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
        res = await this.call("GET", this.ns(`/workflows/${encodeURIComponent(workflowId)}/history`), undefined, {
          query,
          timeoutMs: LONG_POLL_TIMEOUT_MS,
        });
      } catch (err) {
        throw TemporalHttpClient.as(err, GrpcCode.NOT_FOUND, WorkflowNotFoundError);
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
          const [value] = await this.payloads.decode(
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
            await this.toFailure(attrs("workflowExecutionFailedEventAttributes").failure as JsonFailure),
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

  async workflowStatus(workflowId: string) {
    try {
      const res = await this.call<{ workflowExecutionInfo?: { status?: string } }>(
        "GET",
        this.ns(`/workflows/${encodeURIComponent(workflowId)}`),
      );
      return (res.workflowExecutionInfo?.status ?? "WORKFLOW_EXECUTION_STATUS_UNSPECIFIED")
        .replace(/^WORKFLOW_EXECUTION_STATUS_/, "");
    } catch (err) {
      throw TemporalHttpClient.as(err, GrpcCode.NOT_FOUND, WorkflowNotFoundError);
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
      throw TemporalHttpClient.as(err, GrpcCode.NOT_FOUND, WorkflowNotFoundError);
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
      throw TemporalHttpClient.as(err, GrpcCode.NOT_FOUND, WorkflowNotFoundError);
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
      throw TemporalHttpClient.as(err, GrpcCode.NOT_FOUND, WorkflowNotFoundError);
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
        throw TemporalHttpClient.as(err, GrpcCode.NOT_FOUND, WorkflowNotFoundError);
      }
      if (res.outcome?.failure) throw new WorkflowUpdateFailedError((await this.toFailure(res.outcome.failure))!);
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
      throw TemporalHttpClient.as(err, GrpcCode.INVALID_ARGUMENT, InvalidArgumentError);
    }
  }

  async deleteSchedule(scheduleId: string) {
    try {
      await this.call("DELETE", this.ns(`/schedules/${encodeURIComponent(scheduleId)}`), undefined, {
        query: { identity: this.identity },
      });
    } catch (err) {
      throw TemporalHttpClient.as(err, GrpcCode.NOT_FOUND, ScheduleNotFoundError);
    }
  }
}
