/**
 * Secret values at rest: AES-256-GCM (WebCrypto, so the API on Deno and the worker on Node share it) under
 * a master key from the environment. Each ciphertext names its key by id, so old keys keep decrypting
 * during a rotation; the workspace and name are bound in as associated data, so a row cannot be swapped (a
 * personal workspace has its user's id: secrets sealed for their owner before workspaces open unchanged).
 */
import { z } from "zod";

/** The master key of secrets at rest, and the earlier ones still accepted while secrets are re-encrypted. */
export const secretsEnv = {
  /** 32 bytes, base64: encrypts secrets at rest (the API's endpoints answer 503 without it). */
  WEFT_SECRETS_KEY: z.string().optional(),
  /** Earlier master keys (comma-separated), still accepted while secrets are re-encrypted. */
  WEFT_SECRETS_OLD_KEYS: z.string().default(""),
};

export interface MasterKeys {
  current: { id: string; key: CryptoKey };
  all: Map<string, CryptoKey>;
}

export interface Sealed {
  key_id: string;
  iv: Uint8Array;
  ciphertext: Uint8Array;
}

const b64decode = (text: string) => Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0));

/** An AES-256-GCM key from 32 base64-encoded bytes, with a short id derived from it (its SHA-256). */
async function importAesKey(base64: string): Promise<{ id: string; key: CryptoKey }> {
  const raw = b64decode(base64);
  if (raw.length !== 32) throw new Error("a master key must be 32 bytes, base64-encoded");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw));
  const id = Array.from(digest.slice(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
  return { id, key: await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]) };
}

/** WEFT_SECRETS_KEY (current) and WEFT_SECRETS_OLD_KEYS (comma-separated, still accepted for decryption). */
export async function loadMasterKeys(current: string, old = ""): Promise<MasterKeys> {
  const now = await importAesKey(current);
  const all = new Map([[now.id, now.key]]);
  for (const k of old.split(",").map((s) => s.trim()).filter(Boolean)) {
    const imported = await importAesKey(k);
    all.set(imported.id, imported.key);
  }
  return { current: now, all };
}

const aad = (workspaceId: string, name: string) => new TextEncoder().encode(`${workspaceId}:${name}`);

export async function sealSecret(keys: MasterKeys, workspaceId: string, name: string, value: string): Promise<Sealed> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: aad(workspaceId, name) },
      keys.current.key,
      new TextEncoder().encode(value),
    ),
  );
  return { key_id: keys.current.id, iv, ciphertext };
}

export async function openSecret(keys: MasterKeys, workspaceId: string, name: string, sealed: Sealed): Promise<string> {
  const key = keys.all.get(sealed.key_id);
  if (!key) throw new Error(`secret "${name}" is sealed with key ${sealed.key_id}, which is not configured`);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: new Uint8Array(sealed.iv), additionalData: aad(workspaceId, name) },
    key,
    new Uint8Array(sealed.ciphertext),
  );
  return new TextDecoder().decode(plain);
}
