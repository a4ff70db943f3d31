/**
 * A map whose per-item node is a `delay` or a `wait_for_event`: the items wait in this workflow — a durable timer,
 * or the run's event queue (events sent to the map's run over the API, by the name each item's config renders to,
 * `ticket.{{item.id}}`) — `concurrency` at a time. Item rows move through recordMapItems, many items a call, so an
 * item costs the history a timer or a wake-up and a share of a local activity: at most MAX_MAP_WAIT_ITEMS items.
 * Each item's output is what the plain node answers; a timed-out wait fails its item unless on_timeout continues.
 */
import { CancellationScope, isCancellation, patched, proxyActivities, sleep } from "@temporalio/workflow";
import type { MapConfig, WaitForEventConfig } from "../../core/control-nodes.ts";
import { EVENT_NAME_PATTERN, MAX_MAP_WAIT_ITEMS } from "../../core/node-kinds.ts";
import type { MapCounts, MapItemsRecord, MapRequest, NodeError, WorkflowActivities } from "../../core/contract.ts";
import { bookkeeping, record } from "../activity-options.ts";
import { type ControlDeps, nodeFailure } from "./control.ts";
import type { EventQueue } from "./wait-for-event.ts";

/** Maps run delay and wait_for_event items in the workflow (saves refused them before). */
export const MAP_ITEM_WAITS_PATCH = "weft-map-item-waits";

const { mapItemConfigs: itemConfigs } = proxyActivities<WorkflowActivities>({
  startToCloseTimeout: "5m",
  retry: { maximumAttempts: 10, initialInterval: "1s", maximumInterval: "30s" },
});

type ItemRecord = MapItemsRecord["items"][number];
class ItemFailure extends Error {
  constructor(readonly error: NodeError) {
    super(error.message);
  }
}
const itemFailure = (type: string, message: string) => new ItemFailure({ message, type, retryable: false });

export async function runWaitItems(
  { waits }: ControlDeps,
  events: EventQueue,
  config: MapConfig,
  counts: MapCounts,
  request: MapRequest,
): Promise<void> {
  patched(MAP_ITEM_WAITS_PATCH);
  if (counts.total > MAX_MAP_WAIT_ITEMS) {
    throw nodeFailure(
      "MapItemsInvalid",
      `a map of ${config.node!.type} takes at most ${MAX_MAP_WAIT_ITEMS} items (got ${counts.total}): split the list`,
    );
  }
  const items = await itemConfigs(request);
  const type = config.node!.type;
  let buffer: ItemRecord[] = [];
  let flushing: Promise<void> = Promise.resolve();
  const flush = () => {
    flushing = flushing.then(async () => {
      if (!buffer.length) return;
      const batch = buffer;
      buffer = [];
      await record(() => bookkeeping.recordMapItems({ runId: request.runId, node: request.node, items: batch }));
    });
  };
  const push = (item: ItemRecord) => {
    buffer.push(item);
    flush();
  };

  const runItem = async (item: (typeof items)[number]): Promise<unknown> => {
    if (item.error !== undefined) throw itemFailure("InvalidConfig", item.error);
    return type === "delay" ? await delayItem(item.config!) : await eventItem(item.config as WaitForEventConfig);
  };
  const eventItem = async (c: WaitForEventConfig) => {
    if (!EVENT_NAME_PATTERN.test(c.event)) {
      throw itemFailure("InvalidConfig", `the event name rendered to "${c.event}": 1 to 64 of A-Z a-z 0-9 _ . -`);
    }
    const event = await events.take(c.event, c.timeout_ms);
    if (event) return { data: event.data, received_at: event.received_at, timed_out: false };
    if (c.on_timeout !== "continue") {
      throw itemFailure("EventTimeout", `no "${c.event}" event within ${c.timeout_ms} ms`);
    }
    return { data: null, received_at: null, timed_out: true };
  };

  const scope = new CancellationScope();
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (next < items.length && !stopped) {
      const item = items[next++];
      push({ index: item.index, status: "running" });
      try {
        push({ index: item.index, status: "succeeded", output: await runItem(item) });
      } catch (err) {
        if (isCancellation(err) || !(err instanceof ItemFailure)) throw err;
        push({ index: item.index, status: "failed", error: err.error });
        if (config.on_item_failure !== "continue") {
          stopped = true;
          scope.cancel();
        }
      }
    }
  };
  await waits.enter(request.node.name);
  try {
    await scope.run(() => Promise.all(Array.from({ length: Math.min(config.concurrency, items.length) }, worker)))
      .catch((err) => {
        // A failed item under "fail" cancelled the others: not the run being cancelled.
        if (!(stopped && isCancellation(err))) throw err;
      });
  } finally {
    flush();
    await record(() => flushing);
    await waits.leave(request.node.name);
  }
}

/** One item's timer: as the delay node, `duration_ms` (a number, or rendered from a template) or `until`. */
async function delayItem(c: Record<string, unknown>): Promise<{ waited_ms: number; until: string }> {
  const duration = c.duration_ms;
  if (duration !== undefined && (typeof duration !== "number" || !Number.isInteger(duration) || duration < 0)) {
    throw itemFailure("InvalidConfig", `duration_ms rendered to ${JSON.stringify(duration)}, not a whole number ≥ 0`);
  }
  // Date.now() is the workflow task's time: deterministic on replay.
  const untilMs = duration === undefined ? Date.parse(String(c.until)) : Date.now() + duration;
  if (Number.isNaN(untilMs)) {
    throw itemFailure("InvalidConfig", `until rendered to "${c.until}", which is not an ISO 8601 time`);
  }
  const ms = Math.max(0, untilMs - Date.now());
  await sleep(ms);
  return { waited_ms: ms, until: new Date(untilMs).toISOString() };
}
