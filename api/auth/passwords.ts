/** Password hashing with npm bcrypt's async API, which hashes on libuv's thread pool, off the event loop. */
import bcrypt from "bcrypt";

/** Hashes at the configured cost; one per app (a service: api/env.ts). */
export class Passwords {
  private dummy?: Promise<string>;

  constructor(private readonly cost: number) {}

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.cost) as Promise<string>;
  }

  verify(password: string, hash: string): Promise<boolean> {
    return bcrypt.compare(password, hash) as Promise<boolean>;
  }

  /** A real hash of a random password: comparing against it keeps login time equal for unknown emails. */
  timingDummyHash(): Promise<string> {
    this.dummy ??= this.hash(crypto.randomUUID());
    return this.dummy;
  }
}

/** bcrypt reads only the first 72 bytes: a longer password would be checked by its prefix alone. */
export const BCRYPT_MAX_BYTES = 72;
export const fitsBcrypt = (password: string) => new TextEncoder().encode(password).length <= BCRYPT_MAX_BYTES;
