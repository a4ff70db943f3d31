import { describe, expect, it } from "vitest";
import { verdict } from "./verdict.ts";

const report = (counts: string, body: string) =>
  `<?xml version="1.0" encoding="utf-8"?>\n<testsuites ${counts} skipped="0" tests="3" time="9.5">\n` +
  `  <testsuite name="schemathesis" ${counts} tests="3">\n${body}\n  </testsuite>\n</testsuites>`;
const passed = '    <testcase name="GET /api/workflows" time="1.2" />';
// As Schemathesis 4.32.5 writes them (taken from a real run of the fuzz stage).
const serverError = '    <testcase name="Stateful tests" time="40.1">\n      <failure type="failure" message="ST101">' +
  "1. Test Case ID: iNDvyq\n\n- ST101 Server error\n\n[500] Internal Server Error</failure>\n    </testcase>";
const generatorError =
  '    <testcase name="POST /api/codec/decode" time="2.4">\n      <error type="error">Runtime Error\n\n' +
  "Inconsistent results: A test case failed on the first run but now succeeds</error>\n    </testcase>";
const timeout = '    <testcase name="GET /api/workflows/{id}/runs/{run_id}/events" time="20.0">\n' +
  '      <error type="error">Network Error\n\nRead timed out</error>\n    </testcase>';

describe("the fuzz stage's verdict", () => {
  it("passes a clean report, and one whose only error is Schemathesis's own", () => {
    expect(verdict(report('errors="0" failures="0"', passed)).ok).toBe(true);
    const own = verdict(report('errors="1" failures="0"', `${passed}\n${generatorError}`));
    expect(own.ok).toBe(true);
    expect(own.lines.join("\n")).toContain("warning (schemathesis itself): POST /api/codec/decode");
  });

  it("fails on a 5xx, on a request without an answer, on an empty report and on counts it cannot account for", () => {
    const fivexx = verdict(report('errors="0" failures="1"', `${passed}\n${serverError}`));
    expect(fivexx.ok).toBe(false);
    expect(fivexx.lines).toContain("fuzz: 5xx from Stateful tests (ST101)");
    expect(verdict(report('errors="1" failures="0"', `${passed}\n${timeout}`)).ok).toBe(false);
    expect(verdict(report('errors="0" failures="0"', "")).ok).toBe(false);
    expect(verdict(report('errors="0" failures="2"', passed)).ok).toBe(false);
  });
});
