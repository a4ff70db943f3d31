/** Password hashing with npm bcrypt's async API, which hashes on libuv's thread pool, off the event loop. */
import bcrypt from "bcrypt";

export const hashPassword = (password: string, cost: number): Promise<string> =>
  bcrypt.hash(password, cost) as Promise<string>;

export const verifyPassword = (password: string, hash: string): Promise<boolean> =>
  bcrypt.compare(password, hash) as Promise<boolean>;

/** A real hash of a random password: comparing against it keeps login time equal for unknown emails. */
const dummyHashes = new Map<number, Promise<string>>();
export function timingDummyHash(cost: number): Promise<string> {
  let hash = dummyHashes.get(cost);
  if (!hash) {
    hash = bcrypt.hash(crypto.randomUUID(), cost) as Promise<string>;
    dummyHashes.set(cost, hash);
  }
  return hash;
}

/** bcrypt reads only the first 72 bytes: a longer password would be checked by its prefix alone. */
export const BCRYPT_MAX_BYTES = 72;
export const fitsBcrypt = (password: string) => new TextEncoder().encode(password).length <= BCRYPT_MAX_BYTES;
