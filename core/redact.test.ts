import { describe, expect, it } from "vitest";
import { createRedactor, redact } from "./redact.ts";
import { placedSecrets, renderWithSecrets, secretPlacementProblems } from "./secret-placement.ts";

const SECRET = 'tok-Ab/+9 "x"\\é€z';
const b64 = (s: string, enc: BufferEncoding = "base64") => Buffer.from(s).toString(enc);

describe("redact", () => {
  it("replaces the secret in every spelling a value takes on the way out", () => {
    const spellings = {
      upper: SECRET.toUpperCase(),
      lower: SECRET.toLowerCase(),
      uri: encodeURIComponent(SECRET),
      uri_lower_hex: encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
      form: new URLSearchParams({ v: SECRET }).toString().slice(2),
      twice: encodeURIComponent(encodeURIComponent(SECRET)),
      json: JSON.stringify(SECRET).slice(1, -1),
      json_ascii: JSON.stringify(SECRET).replace(
        /[^\x20-\x7e]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
      ),
      hex: b64(SECRET, "hex"),
      hex_upper: b64(SECRET, "hex").toUpperCase(),
      base64: b64(SECRET),
      base64url: b64(SECRET, "base64url"),
      basic: b64(`user:${SECRET}`),
      shifted: b64(`xy${SECRET}`, "base64url"),
      uri_of_base64: encodeURIComponent(b64(SECRET)),
    };
    const redacted = redact(spellings, [SECRET]);
    for (const [name, spelled] of Object.entries(spellings)) {
      expect(redacted[name as keyof typeof spellings], name).not.toContain(spelled);
      expect(redacted[name as keyof typeof spellings], name).toContain("***");
    }
    expect(redact({ [SECRET]: [`a ${SECRET} b`] }, [SECRET])).toEqual({ "***": ["a *** b"] });
    // What a URL parser makes of a secret with a tab and a backslash in a path.
    const odd = "pa\tss\\word-1234";
    const parsed = new URL(`http://h/x/${odd}/y`).href;
    expect(parsed).toContain("/x/pass/word-1234/y");
    expect(redact(parsed, [odd])).toBe("http://h/x/***/y");
  });

  it("cuts a secret's start off the end of a string (an excerpt cut mid-secret), and leaves other text alone", () => {
    expect(redact(`answered 400: ${SECRET.slice(0, 6)}`, [SECRET])).toBe("answered 400: ***");
    expect(redact("tok tok-A is short", [SECRET])).toBe("tok tok-A is short");
    expect(redact({ n: 1, b: true, s: null }, [SECRET])).toEqual({ n: 1, b: true, s: null });
    expect(createRedactor([])("x")).toBe("x");
    expect(redact("a\tb", ["\t"])).toBe("a***b");
  });
});

describe("secret placement", () => {
  it("allows only whole {{secrets.NAME}} templates in http_request and db_write", () => {
    expect(
      secretPlacementProblems("http_request", { url: "https://x/?k={{ secrets.K }}", headers: { a: "{{secrets.A}}" } }),
    )
      .toEqual([]);
    expect(secretPlacementProblems("http_request", { url: "{{$uppercase(secrets.K)}}" })[0].message)
      .toContain('only be placed whole, as "{{secrets.NAME}}"');
    expect(secretPlacementProblems("transform", { expression: "$string(secrets)" }, ["expression"])).toHaveLength(1);
    expect(secretPlacementProblems("transform", { expression: "input.secrets" }, ["expression"])).toEqual([]);
    expect(secretPlacementProblems("llm_call", { prompt: "{{secrets.K}}" })[0].message).toContain("not llm_call");
    expect(placedSecrets({ a: ["{{secrets.A}} {{ secrets.B }}", "{{$x(secrets.C)}}"] })).toEqual(["A", "B"]);
  });

  it("fills placements after the other templates render, out of the expressions' reach", async () => {
    const seen: unknown[] = [];
    const out = await renderWithSecrets(
      { url: "https://x/{{secrets.K}}?q={{input}}", auth: "{{secrets.K}}", keep: "{{secrets.OTHER}}" },
      { K: "$1 s3cr3t $&" },
      (config) => {
        seen.push(config);
        return Promise.resolve({ ...config, url: String(config.url).replace("{{input}}", "v") });
      },
    );
    expect(out).toEqual({ url: "https://x/$1 s3cr3t $&?q=v", auth: "$1 s3cr3t $&", keep: "{{secrets.OTHER}}" });
    expect(JSON.stringify(seen)).not.toContain("s3cr3t");
  });
});
