/**
 * API keys for services: `weft_` and 32 random bytes (base64url), shown once. Only the key's SHA-256 is stored:
 * a key has 256 bits of entropy, so a fast hash is as safe as a slow one and costs microseconds per request,
 * where a bcrypt-class hash would cost the request itself.
 */
const encoder = new TextEncoder();
export const API_KEY_PREFIX = "weft_";
/** How much of a key is kept in the clear, to tell keys apart in a list: `weft_` and 8 characters. */
const SHOWN_LENGTH = API_KEY_PREFIX.length + 8;

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

export const isApiKey = (token: string) => token.startsWith(API_KEY_PREFIX);

export async function hashApiKey(key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(key)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function newApiKey(): Promise<{ key: string; prefix: string; hash: string }> {
  const key = API_KEY_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(32)));
  return { key, prefix: key.slice(0, SHOWN_LENGTH), hash: await hashApiKey(key) };
}
