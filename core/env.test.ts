/** parseEnv: one failure naming every bad variable, and the shared fragments' parsing of empty values. */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { databaseEnv, parseEnv, tracingEnv } from "./env.ts";

describe("parseEnv", () => {
  const schema = z.object({ ...databaseEnv, ...tracingEnv, PORT: z.coerce.number().int().min(1) });

  it("answers typed settings with the defaults filled in", () => {
    expect(parseEnv(schema, { PORT: "8000", OTEL_EXPORTER_OTLP_ENDPOINT: "" }, "test")).toEqual({
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/weft",
      PORT: 8000,
    });
  });

  it("lists every bad variable in one error", () => {
    expect(() => parseEnv(schema, { DATABASE_URL: "nope", PORT: "0" }, "test")).toThrow(
      /^invalid test configuration:\n {2}DATABASE_URL: .*\n {2}PORT: .*>=1/,
    );
  });
});
