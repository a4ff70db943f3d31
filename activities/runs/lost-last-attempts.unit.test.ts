import { describe, expect, it } from "vitest";
import { timedOutActivities, timedOutNodeAttempts } from "./lost-last-attempts.ts";

const payloads = [{ metadata: { encoding: new Uint8Array([1]) }, data: new Uint8Array([2]) }];
const scheduled = (eventId: number, type: string, activityId: string) => ({
  eventId,
  activityTaskScheduledEventAttributes: { activityType: { name: type }, activityId, input: { payloads } },
});
const started = (eventId: number, attempt: number) => ({ eventId, activityTaskStartedEventAttributes: { attempt } });
const timedOut = (eventId: number, scheduledEventId: number, startedEventId: number) => ({
  eventId,
  activityTaskTimedOutEventAttributes: { scheduledEventId, startedEventId },
});

/** History events as Temporal's client returns them, event ids as numbers (ids are compared as strings). */
type Events = Parameters<typeof timedOutActivities>[0];

describe("timedOutActivities", () => {
  const events = [
    scheduled(5, "executeNode", "fetch"),
    scheduled(6, "executeNodeGroup", "a+2"),
    scheduled(7, "executeNode", "done"),
    started(8, 3),
    started(9, 2),
    started(10, 1),
    timedOut(11, 5, 8),
    timedOut(12, 6, 9),
    { eventId: 13, activityTaskCompletedEventAttributes: { scheduledEventId: 7, startedEventId: 10 } },
  ] as unknown as Events;

  it("names lone nodes by activity id with their final attempt, and hands back each lost group's input", () => {
    expect(timedOutActivities(events)).toEqual({ nodes: [{ nodeName: "fetch", attempt: 3 }], groupInputs: [payloads] });
    expect(timedOutNodeAttempts(events)).toEqual([{ nodeName: "fetch", attempt: 3 }]);
  });

  it("finds nothing in a history where no activity timed out", () => {
    expect(timedOutActivities(events.filter((e) => !("activityTaskTimedOutEventAttributes" in e)))).toEqual({
      nodes: [],
      groupInputs: [],
    });
  });
});
