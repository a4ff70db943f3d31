/**
 * The API's Temporal client over the HTTP API, against the test stack's real dev server and worker: every call
 * the handlers make, the errors they map, and payloads encrypted on the way in and decrypted on the way out —
 * checked from the other side with the SDK's gRPC client, which sees what Temporal stores.
 */
import { Client, Connection } from "@temporalio/client";
import { defaultPayloadConverter, type Payload } from "@temporalio/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { weftDataConverter } from "../../core/payload-codec.ts";
import { payloadTenantKeys } from "../../db/payload-keys.ts";
import { WEFT_STATUS } from "../../core/search-attributes.ts";
import { TEST_PAYLOAD_KEY, TEST_TEMPORAL_ADDRESS } from "../../test/env.ts";
import { buildWorkflow, call, type FailureChain, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";
import * as errors from "./client.ts";
import { TemporalHttpClient } from "./http.ts";

let http: TemporalHttpClient;
/** The SDK's client without the payload key: what Temporal holds, undecoded. */
let raw: Client;
let connection: Connection;

/** A task queue no worker polls: workflows there stay running until the test ends them. */
const IDLE_QUEUE = `weft-http-idle-${process.pid}`;
const id = (what: string) => `weft-http-test-${what}-${process.pid}-${Date.now()}`;

const t = useApiHarness({ names: ["http-client", "bob"] });
beforeAll(async () => {
  http = t.temporalHttp;
  connection = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
  raw = new Client({ connection });
});
afterAll(() => connection?.close());

/** The history as text, bytes read as latin1, so a plaintext marker in any payload would show. */
async function historyText(workflowId: string) {
  const history = await raw.workflow.getHandle(workflowId).fetchHistory();
  const text = JSON.stringify(history, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : v));
  return { history, text };
}

/** The codec Weft's processes use (per-tenant data keys from the test database). */
async function weftCodec() {
  const env = { WEFT_PAYLOAD_KEY: TEST_PAYLOAD_KEY };
  return (await weftDataConverter(env, await payloadTenantKeys(t.sql, env)))!.payloadCodecs[0];
}

async function decodeWithSdk(payload: Payload) {
  const codec = await weftCodec();
  const [plain] = await codec.decode([payload]);
  return defaultPayloadConverter.fromPayload(plain);
}

describe("Temporal's HTTP API client", () => {
  it("reads system info, and says clearly when nothing answers", async () => {
    expect((await http.systemInfo()).serverVersion).toMatch(/^\d+\.\d+/);
    const nobody = new TemporalHttpClient({ url: "http://127.0.0.1:1", namespace: "default" });
    const err = await nobody.systemInfo().catch((e) => e);
    expect(err).toBeInstanceOf(errors.TemporalServiceError);
    expect(err.code).toBe(errors.GrpcCode.UNAVAILABLE);
    expect(err.message).toMatch(/HTTP API at http:\/\/127\.0\.0\.1:1 did not answer/);
  });

  it("starts a workflow with encrypted input and search attributes, describes and cancels it", async () => {
    const workflowId = id("start");
    const args = [{ note: "plaintext-start-marker", n: 3, nested: { list: [1, "two", null] } }];
    const { runId } = await http.startWorkflow("runDag", {
      workflowId,
      taskQueue: IDLE_QUEUE,
      args,
      searchAttributes: { WeftStatus: "probe" },
    });
    const description = await raw.workflow.getHandle(workflowId).describe();
    expect(description.runId).toBe(runId);
    expect(description.type).toBe("runDag");
    expect(description.typedSearchAttributes.get(WEFT_STATUS)).toBe("probe");
    expect(await http.workflowStatus(workflowId)).toBe("RUNNING");

    // Temporal holds ciphertext; the SDK's own codec reads back exactly the arguments given.
    const { history, text } = await historyText(workflowId);
    expect(text).not.toContain("plaintext-start-marker");
    const input = history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads!;
    expect(input).toHaveLength(1);
    expect(Buffer.from(input[0].metadata!.encoding!).toString()).toBe("binary/encrypted");
    expect(await decodeWithSdk(input[0] as Payload)).toEqual(args[0]);

    const again = await http.startWorkflow("runDag", { workflowId, taskQueue: IDLE_QUEUE, args }).catch((e) => e);
    expect(again).toBeInstanceOf(errors.WorkflowAlreadyStartedError);
    expect(again.code).toBe(errors.GrpcCode.ALREADY_EXISTS);

    await http.cancelWorkflow(workflowId);
    const events = (await raw.workflow.getHandle(workflowId).fetchHistory()).events!;
    expect(events.some((e) => e.workflowExecutionCancelRequestedEventAttributes)).toBe(true);
    await raw.workflow.getHandle(workflowId).terminate("test over");
    expect(await http.workflowStatus(workflowId)).toBe("TERMINATED");
  });

  it("maps an unknown workflow to WorkflowNotFoundError", async () => {
    const missing = id("missing");
    // One at a time: a rejection must not wait unhandled while an earlier call is awaited.
    for (
      const attempt of [
        () => http.workflowStatus(missing),
        () => http.cancelWorkflow(missing),
        () => http.executeUpdate(missing, "approve", [{}]),
      ]
    ) {
      const err = await (attempt() as Promise<unknown>).catch((e) => e) as Error & { code?: number };
      expect(err).toBeInstanceOf(errors.WorkflowNotFoundError);
      expect(err.name).toBe("WorkflowNotFoundError");
      expect(err.code).toBe(errors.GrpcCode.NOT_FOUND);
    }
  });

  it("executes an update: a validator's rejection, an accepted decision, then a closed workflow", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [
      { name: "review", type: "approval", config: { message: "ok?" } },
    ]);
    const started = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
      token: t.alice.token,
      body: { input: {} },
    });
    const runId = started.body.run_id as string;
    const temporalId = started.body.temporal.workflow_id as string;
    const decision = (node_name: string) => ({
      node_name,
      approved: true,
      data: { note: "plaintext-update-marker" },
      decided_by: t.alice.email,
    });
    // Until the node waits, and for a node that does not exist, the workflow's validator rejects the update.
    let rejected: unknown;
    for (let i = 0; i < 100; i++) {
      rejected = await http.executeUpdate(temporalId, "approve", [decision("nobody")]).catch((e) => e);
      if (rejected instanceof errors.WorkflowUpdateFailedError) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(rejected).toBeInstanceOf(errors.WorkflowUpdateFailedError);
    expect((rejected as errors.WorkflowUpdateFailedError).failure.message).toMatch(/nobody/);

    let result: unknown;
    for (let i = 0; i < 100 && result === undefined; i++) {
      result = await http.executeUpdate(temporalId, "approve", [decision("review")]).catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    expect(result).toEqual({ accepted: true });
    expect((await waitForRun(t.app, t.alice.token, workflowId, runId)).status).toBe("succeeded");
    expect((await historyText(temporalId)).text).not.toContain("plaintext-update-marker");

    const closed = await http.executeUpdate(temporalId, "approve", [decision("review")]).catch((e) => e);
    expect(closed).toBeInstanceOf(errors.WorkflowNotFoundError);
  });

  it("executes a workflow to its result, encrypted both ways, and reports failures and time-outs", async () => {
    const created = await call(t.app, "POST", "/api/vectors/collections", {
      token: t.alice.token,
      body: { name: id("collection") },
    });
    const collectionId = created.body.id as string;
    await t.ingest(
      collectionId,
      [{ text: "plaintext-document-marker one" }, { text: "another document" }],
      t.alice,
      30_000,
    );

    // Search workflows are Weft's only under the id of a search the API registered (activities/vector/ingest.ts).
    const registerSearch = async (collection: string, request: Record<string, unknown>) => {
      const searchId = crypto.randomUUID();
      await t.sql`INSERT INTO vector_search_requests (id, tenant_id, collection_id, request)
        VALUES (${searchId}, ${t.alice.id}, ${collection}, ${t.sql.json(request as never)})`;
      return `weft-search-${searchId}`;
    };
    const workflowId = await registerSearch(collectionId, { query: "plaintext-query-marker", top_k: 2 });
    const result = await http.executeWorkflow("searchCollection", {
      workflowId,
      taskQueue: "weft-gpu",
      args: [{ collectionId, ownerId: t.alice.id, query: "plaintext-query-marker", top_k: 2 }],
      executionTimeout: "30s",
    }) as { results: { text: string; score: number }[] };
    expect(result.results.map((r) => r.text).sort()).toEqual(["another document", "plaintext-document-marker one"]);
    const { text } = await historyText(workflowId);
    expect(text).not.toContain("plaintext-query-marker");
    expect(text).not.toContain("plaintext-document-marker");

    const missing = crypto.randomUUID();
    const failed = await http.executeWorkflow("searchCollection", {
      workflowId: await registerSearch(missing, { query: "q", top_k: 1 }),
      taskQueue: "weft-gpu",
      args: [{ collectionId: missing, ownerId: t.alice.id, query: "q", top_k: 1 }],
    }).catch((e) => e) as Error & { failure?: FailureChain };
    expect(failed).toBeInstanceOf(errors.WorkflowFailedError);
    const types: string[] = [];
    for (let f = failed.failure; f; f = f.cause) if (f.type) types.push(f.type);
    expect(types).toContain("CollectionNotFound");

    const timedOut = await http.executeWorkflow("searchCollection", {
      workflowId: `weft-search-${id("search-timeout")}`,
      taskQueue: IDLE_QUEUE,
      args: [{}],
      executionTimeout: "1s",
    }).catch((e) => e) as Error;
    expect(timedOut).toBeInstanceOf(errors.WorkflowFailedError);
    expect(timedOut.message).toBe("Workflow execution timed out");
  });

  it("creates a schedule as the SDK would (policy, memo, encrypted action input), refuses a bad spec, deletes", async () => {
    const scheduleId = id("schedule");
    const args = { workflowId: "wf", ownerId: "owner", input: { note: "plaintext-schedule-marker" }, scheduleId };
    await http.createSchedule(scheduleId, {
      cron: "0 3 * * 1-5",
      timezone: "Europe/Paris",
      paused: true,
      note: "Weft workflow wf",
      memo: { weft_workflow_id: "wf" },
      action: { workflowType: "scheduledRun", workflowId: scheduleId, taskQueue: IDLE_QUEUE, args: [args] },
      catchupWindow: "60s",
    });
    const decoding = new Client({
      connection,
      dataConverter: { payloadCodecs: [await weftCodec()] },
    });
    const description = await decoding.schedule.getHandle(scheduleId).describe();
    expect(description.policies).toMatchObject({ overlap: "ALLOW_ALL", catchupWindow: 60_000 });
    expect(description.state).toMatchObject({ paused: true, note: "Weft workflow wf" });
    expect(description.spec.timezone).toBe("Europe/Paris");
    expect(description.memo).toEqual({ weft_workflow_id: "wf" });
    expect(description.action).toMatchObject({ workflowType: "scheduledRun", workflowId: scheduleId, args: [args] });
    const stored = await raw.workflowService.describeSchedule({ namespace: "default", scheduleId });
    for (
      const payload of [
        stored.schedule!.action!.startWorkflow!.input!.payloads![0],
        stored.memo!.fields!.weft_workflow_id,
      ]
    ) {
      expect(Buffer.from(payload.metadata!.encoding!).toString()).toBe("binary/encrypted");
      expect(Buffer.from(payload.data!).toString("latin1")).not.toContain("plaintext-schedule-marker");
    }

    const bad = await http.createSchedule(id("bad"), {
      cron: "61 * * * *",
      timezone: "UTC",
      paused: true,
      note: "",
      memo: {},
      action: { workflowType: "scheduledRun", workflowId: "x", taskQueue: IDLE_QUEUE, args: [] },
      catchupWindow: "60s",
    }).catch((e) => e);
    expect(bad).toBeInstanceOf(errors.InvalidArgumentError);

    await http.deleteSchedule(scheduleId);
    expect(await http.deleteSchedule(scheduleId).catch((e) => e)).toBeInstanceOf(errors.ScheduleNotFoundError);
  });
});
