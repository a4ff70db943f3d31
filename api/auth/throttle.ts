/**
 * Login throttling per account and per client address, counted in PostgreSQL so every API process shares it.
 * An attempt is counted before the password is checked (parallel guesses cannot slip past the limit) and
 * given back when it succeeds, so only failures accumulate.
 */
import type { Context } from "hono";
import type { Sql } from "../../db/client.ts";
import type { ApiConfig } from "../config.ts";
import type { AppEnv } from "../env.ts";
import { ApiError } from "../errors.ts";

type ThrottleConfig = Pick<
  ApiConfig,
  "LOGIN_MAX_FAILURES_PER_ACCOUNT" | "LOGIN_MAX_FAILURES_PER_ADDRESS" | "LOGIN_THROTTLE_WINDOW_SECONDS"
>;

/** The client's address: the socket peer under Deno.serve, or X-Forwarded-For behind trusted proxies. */
export function clientAddress(c: Context<AppEnv>, trustedHops: number): string {
  if (trustedHops > 0) {
    const hops = (c.req.header("x-forwarded-for") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const seen = hops[hops.length - trustedHops];
    if (seen) return seen;
  }
  // Deno.serve passes its connection info as the app's env (what hono/deno's getConnInfo reads).
  const remote = (c.env as { remoteAddr?: { hostname?: string } } | undefined)?.remoteAddr?.hostname;
  return remote ?? "unknown";
}

export class LoginThrottle {
  constructor(private readonly sql: Sql, private readonly config: ThrottleConfig) {}

  private keys(email: string, address: string) {
    return [`account:${email.toLowerCase()}`, `address:${address}`];
  }

  /** Counts an attempt; throws RATE_LIMITED (with Retry-After) when either key is over its limit. */
  async attempt(email: string, address: string): Promise<void> {
    const window = this.config.LOGIN_THROTTLE_WINDOW_SECONDS;
    const [accountKey, addressKey] = this.keys(email, address);
    const rows = await this.sql`
      INSERT INTO login_attempts AS a (key, attempts, window_start)
      SELECT k, 1, now() FROM unnest(${[accountKey, addressKey]}::text[]) AS k
      ON CONFLICT (key) DO UPDATE SET
        attempts = CASE WHEN a.window_start <= now() - make_interval(secs => ${window}) THEN 1 ELSE a.attempts + 1 END,
        window_start = CASE WHEN a.window_start <= now() - make_interval(secs => ${window}) THEN now()
                            ELSE a.window_start END
      RETURNING key, attempts,
        ceil(extract(epoch FROM a.window_start + make_interval(secs => ${window}) - now()))::int AS retry_after`;
    // Expired windows are dropped now and then, so addresses that never return do not pile up.
    if (Math.random() < 0.01) {
      await this.sql`DELETE FROM login_attempts WHERE window_start < now() - make_interval(secs => ${window})`;
    }
    let retryAfter = 0;
    for (const row of rows) {
      const limit = row.key === accountKey
        ? this.config.LOGIN_MAX_FAILURES_PER_ACCOUNT
        : this.config.LOGIN_MAX_FAILURES_PER_ADDRESS;
      if ((row.attempts as number) > limit) retryAfter = Math.max(retryAfter, row.retry_after as number, 1);
    }
    if (retryAfter) {
      throw new ApiError("RATE_LIMITED", `too many failed logins; try again in ${retryAfter} s`, undefined, {
        retryAfterSeconds: retryAfter,
      });
    }
  }

  /** A successful login gives its attempt back. */
  async succeeded(email: string, address: string): Promise<void> {
    await this.sql`UPDATE login_attempts SET attempts = greatest(attempts - 1, 0)
      WHERE key = ANY(${this.keys(email, address)}::text[])`;
  }
}
