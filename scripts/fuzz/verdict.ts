/**
 * The fuzz stage's verdict on Schemathesis's JUnit report. Only the not_a_server_error check runs, so every
 * failure is a 5xx. An error is a request that got no answer (timeout, reset: the API hung or died), unless it is
 * Schemathesis's own "Runtime Error" while generating data, which says nothing about the API: shown, not failed.
 */
export function verdict(xml: string): { ok: boolean; lines: string[] } {
  const suite = /<testsuites\b([^>]*)>/.exec(xml)?.[1] ?? "";
  const attr = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(suite)?.[1] ?? NaN);
  const cases = xml.split(/<testcase\b/).slice(1).map((chunk) => ({
    name: /name="([^"]*)"/.exec(chunk)?.[1] ?? "?",
    failure: /<failure\b[^>]*>/.exec(chunk)?.[0],
    error: /<error\b[^>]*>([^\n<]*)/.exec(chunk)?.[1],
  }));
  const failed = cases.filter((c) => c.failure);
  const errored = cases.filter((c) => c.error !== undefined);
  const noAnswer = errored.filter((c) => !c.error!.startsWith("Runtime Error"));
  const lines = [
    `fuzz: ${cases.length} operations tested, ${failed.length} with a 5xx, ${noAnswer.length} with no answer`,
    ...failed.map((c) => `fuzz: 5xx from ${c.name} (${/message="([^"]*)"/.exec(c.failure!)?.[1] ?? "failure"})`),
    ...errored.map((c) =>
      `fuzz: ${noAnswer.includes(c) ? "error" : "warning (schemathesis itself)"}: ${c.name}: ${c.error}`
    ),
  ];
  // The suite's own counts guard against a report laid out differently from what the lines above read.
  const ok = cases.length > 0 && failed.length === 0 && noAnswer.length === 0 && attr("failures") === 0 &&
    attr("errors") === errored.length;
  return { ok, lines };
}
