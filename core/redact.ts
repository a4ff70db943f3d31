/**
 * Redaction of secret values in everything a node records or hands to Temporal. A secret leaves a node in many
 * spellings — percent-encoded by a URL, JSON-escaped in a body, upper-cased, hex or base64 in an echo — so each
 * secret becomes patterns that match those spellings, not just the value itself.
 */

const REPLACEMENT = "***";
/** Shorter base64 or hex forms would match too much unrelated text to be worth redacting. */
const MIN_ENCODED_CHARS = 4;
/** A string that ends in at least this much of a secret's start (an excerpt cut short) loses that end. */
const MIN_CUT_PREFIX = 4;

const utf8 = (text: string) => new TextEncoder().encode(text);
const hex2 = (b: number) => b.toString(16).padStart(2, "0");
const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** `%3a` or `%3A`: a percent escape's hex digits in either case, once or twice encoded (`%253A`). */
function percentPattern(char: string): string {
  const bytes = [...utf8(char)].map(hex2);
  const digits = (h: string) => [...h].map(anyCase).join("");
  const once = bytes.map((h) => `%${digits(h)}`).join("");
  const twice = bytes.map((h) => `%25${digits(h)}`).join("");
  return `${once}|${twice}`;
}

/** JSON's escapes of a character: `\u00e9` in either case, and the short forms (`\"`, `\\`, `\/`, `\n`…). */
function jsonEscapePatterns(char: string): string[] {
  const units = [...char].length === 1 && char.length === 2
    ? [char.charCodeAt(0), char.charCodeAt(1)]
    : [char.charCodeAt(0)];
  const u = units.map((c) => `\\\\u${[...c.toString(16).padStart(4, "0")].map(anyCase).join("")}`).join("");
  const short: Record<string, string> = {
    '"': '\\\\"',
    "\\": "\\\\\\\\",
    "/": "\\\\/",
    "\n": "\\\\n",
    "\r": "\\\\r",
    "\t": "\\\\t",
    "\b": "\\\\b",
    "\f": "\\\\f",
  };
  return short[char] ? [u, short[char]] : [u];
}

function anyCase(char: string): string {
  const forms = new Set([char, char.toLowerCase(), char.toUpperCase()].filter((f) => [...f].length === 1));
  return forms.size > 1 ? `[${[...forms].map(escapeRegex).join("")}]` : escapeRegex(char);
}

/** One character of a secret as any of its spellings: itself (any case), percent-escaped, JSON-escaped, `+`. */
function charPattern(char: string, caseInsensitive: boolean): string {
  const alternatives = [caseInsensitive ? anyCase(char) : escapeRegex(char), percentPattern(char)];
  alternatives.push(...jsonEscapePatterns(char));
  if (char === " ") alternatives.push("\\+");
  // A URL parser drops tabs and newlines and turns a backslash into a slash: `output.url` shows what it made.
  if (char === "\\") alternatives.push("\\/");
  if (char === "\t" || char === "\n" || char === "\r") alternatives.push("");
  return `(?:${alternatives.join("|")})`;
}

/**
 * The base64 characters fixed by the secret's bytes alone, for each of the three alignments at which the secret
 * can sit inside a longer encoded value (a `Basic` credential, a binary body): the parts that depend on the
 * neighbouring bytes are left out, so each is a substring of every encoding that contains the secret.
 */
function base64Cores(bytes: Uint8Array): string[] {
  const cores: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const padded = new Uint8Array(offset + bytes.length);
    padded.set(bytes, offset);
    const encoded = btoa(String.fromCharCode(...padded)).replace(/=+$/, "");
    const first = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + bytes.length)) / 6);
    const core = encoded.slice(first, end);
    if (core.length >= MIN_ENCODED_CHARS) cores.push(core, core.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return cores;
}

/** Every pattern for one secret, longest spelling first. */
export function secretPatterns(secret: string): RegExp[] {
  if (!secret) return [];
  const chars = [...secret];
  const spelled = (text: string, caseInsensitive: boolean) =>
    [...text].map((c) => charPattern(c, caseInsensitive)).join("");
  const patterns: string[] = [];
  const bytes = utf8(secret);
  const hex = [...bytes].map(hex2).join("");
  if (hex.length >= MIN_ENCODED_CHARS) patterns.push(spelled(hex, true));
  for (const core of new Set(base64Cores(bytes))) patterns.push(spelled(core, false));
  patterns.push(spelled(secret, true));
  // A secret cut short at a string's end (a 500-character excerpt of an error body) still gives most of it away.
  if (chars.length > MIN_CUT_PREFIX) {
    const head = chars.slice(0, MIN_CUT_PREFIX).map((c) => charPattern(c, true)).join("");
    const rest = chars.slice(MIN_CUT_PREFIX, -1).reduceRight(
      (inner, c) => `(?:${charPattern(c, true)}${inner})?`,
      "",
    );
    patterns.push(`${head}${rest}$`);
  }
  // A secret made only of characters a URL may drop would match the empty string, i.e. everywhere: exact only.
  return patterns.map((p) => new RegExp(new RegExp(`^(?:${p})$`, "u").test("") ? escapeRegex(secret) : p, "gu"));
}

/** Replaces every occurrence of a secret, in any of its spellings, in one string. */
export function redactText(text: string, patterns: RegExp[]): string {
  let out = text;
  for (const p of patterns) out = out.replace(p, REPLACEMENT);
  return out;
}

/** A redactor for a set of secret values: compiled once per node attempt, applied to every value it records. */
export function createRedactor(secrets: string[]): <T>(value: T) => T {
  const patterns = [...new Set(secrets.filter(Boolean))]
    .sort((a, b) => b.length - a.length)
    .flatMap(secretPatterns);
  if (!patterns.length) return (value) => value;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return redactText(v, patterns);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [redactText(k, patterns), walk(x)]));
    }
    return v;
  };
  return <T>(value: T): T => (value === undefined ? value : walk(value) as T);
}

/** Replaces every spelling of any of `secrets` inside a JSON value with "***" (strings, keys, nested). */
export function redact<T>(value: T, secrets: string[]): T {
  return createRedactor(secrets)(value);
}
