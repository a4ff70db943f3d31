import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FAILURE_TYPES, isNodeFailureCode, nodeFailureCodeProblem } from "./failure-types.ts";
import { parseNodeConfig } from "./node-types.ts";

describe("node failure codes", () => {
  it("accepts the node failure types and HTTP_<status>", () => {
    for (const code of ["InvalidConfig", "Timeout", "EgressBlocked", "ApprovalRejected", "HTTP_404", "HTTP_503"]) {
      expect(isNodeFailureCode(code), code).toBe(true);
    }
  });

  it("refuses unknown codes, run-level types and malformed statuses, naming the code", () => {
    for (const code of ["TimedOut", "NodeFailed", "ConditionError", "HTTP_", "HTTP_99", "HTTP_4040", "http_404", ""]) {
      expect(isNodeFailureCode(code), code).toBe(false);
    }
    expect(nodeFailureCodeProblem("TimedOut")).toMatch(/"TimedOut".*HTTP_<status>.*InvalidConfig/);
    expect(Object.hasOwn(FAILURE_TYPES, "toString")).toBe(false);
    expect(isNodeFailureCode("toString")).toBe(false);
  });

  it("a node's retry policy is validated against the list", () => {
    const ok = parseNodeConfig("http_request", {
      url: "https://x.io",
      retry: { non_retryable_error_codes: ["HTTP_429", "NetworkError"] },
    });
    expect(ok.ok).toBe(true);
    const bad = parseNodeConfig("transform", {
      expression: "1",
      retry: { non_retryable_error_codes: ["Timeout", "Nope"] },
    });
    expect(bad).toEqual({
      ok: false,
      issues: [{ path: "config.retry.non_retryable_error_codes.1", message: expect.stringContaining('"Nope"') }],
    });
  });
});

describe("the README", () => {
  it("lists every node failure type", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const missing = Object.entries(FAILURE_TYPES).filter(([name, t]) => t.node && !readme.includes(`\`${name}\``));
    expect(missing.map(([name]) => name)).toEqual([]);
  });
});
