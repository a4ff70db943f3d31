/** The local-activity rule and the `durable_step` key as node configs are saved. */
import { describe, expect, it } from "vitest";
import { LOCAL_TIMEOUT_LIMIT_MS, runsLocally } from "./node-execution.ts";
import { parseNodeConfig } from "./node-types.ts";

describe("which nodes run as local activities", () => {
  it("transform always, http_request and db_write under a short timeout, nothing else", () => {
    expect(runsLocally("transform", { expression: "1" })).toBe(true);
    expect(runsLocally("transform", { expression: "1", timeout_ms: 60_000 })).toBe(true);
    for (const type of ["http_request", "db_write"]) {
      expect(runsLocally(type, {})).toBe(false); // the default timeout is 60 s
      expect(runsLocally(type, { timeout_ms: LOCAL_TIMEOUT_LIMIT_MS })).toBe(true);
      expect(runsLocally(type, { timeout_ms: LOCAL_TIMEOUT_LIMIT_MS + 1 })).toBe(false);
    }
    for (const type of ["llm_call", "faiss_search", "approval", "map", "sub_workflow", "delay", "wait_for_event"]) {
      expect(runsLocally(type, { timeout_ms: 100 })).toBe(false);
    }
  });

  it("durable_step: true opts a node out; false changes nothing", () => {
    expect(runsLocally("transform", { expression: "1", durable_step: true })).toBe(false);
    expect(runsLocally("http_request", { timeout_ms: 1000, durable_step: true })).toBe(false);
    expect(runsLocally("http_request", { timeout_ms: 1000, durable_step: false })).toBe(true);
  });

  it("durable_step is a boolean on every node type that takes the common keys", () => {
    expect(parseNodeConfig("transform", { expression: "1", durable_step: true })).toMatchObject({ ok: true });
    expect(parseNodeConfig("http_request", { url: "https://x.test", durable_step: false })).toMatchObject({
      ok: true,
    });
    expect(parseNodeConfig("transform", { expression: "1", durable_step: "yes" })).toEqual({
      ok: false,
      issues: [{ path: "config.durable_step", message: "durable_step must be true or false" }],
    });
  });
});
