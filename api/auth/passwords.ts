/** Password hashing with npm bcrypt's async API, which hashes on libuv's thread pool, off the event loop. */
import bcrypt from "bcrypt";

export const hashPassword = (password: string, cost: number): Promise<string> => bcrypt.hash(password, cost);

export const verifyPassword = (password: string, hash: string): Promise<boolean> => bcrypt.compare(password, hash);

/** A real hash of a random password: comparing against it keeps login time equal for unknown emails. */
let dummyHash: Promise<string> | undefined;
export function timingDummyHash(cost: number): Promise<string> {
  dummyHash ??= bcrypt.hash(crypto.randomUUID(), cost);
  return dummyHash;
}
