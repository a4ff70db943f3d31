/** Access tokens: HS256 JWTs signed and verified with jose, algorithm pinned, exp/iss/aud checked. */
import { jwtVerify, SignJWT } from "jose";
import type { ApiConfig } from "../config.ts";

const ALGORITHM = "HS256";
/** Clock skew between API processes that a token's issue time may show. */
const ISSUED_AT_TOLERANCE_SECONDS = 30;

export interface TokenClaims {
  sub: string;
  email: string;
}

/** Verified tokens, remembered until they expire so each is checked by HMAC once, not per request. */
class VerifiedTokenCache {
  private readonly entries = new Map<string, { claims: TokenClaims; exp: number }>();

  constructor(private readonly maxEntries: number) {}

  get(token: string): TokenClaims | undefined {
    const hit = this.entries.get(token);
    if (!hit) return undefined;
    if (hit.exp * 1000 <= Date.now()) {
      this.entries.delete(token);
      return undefined;
    }
    return hit.claims;
  }

  set(token: string, claims: TokenClaims, exp: number) {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { claims, exp });
  }
}

export class TokenService {
  private readonly verified = new VerifiedTokenCache(10_000);

  private readonly key: Uint8Array;

  constructor(
    private readonly config: Pick<ApiConfig, "JWT_SECRET" | "JWT_ISSUER" | "JWT_AUDIENCE" | "JWT_TTL_SECONDS">,
  ) {
    this.key = new TextEncoder().encode(config.JWT_SECRET);
  }

  async sign(claims: TokenClaims): Promise<string> {
    return new SignJWT({ email: claims.email })
      .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
      .setSubject(claims.sub)
      .setIssuer(this.config.JWT_ISSUER)
      .setAudience(this.config.JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.config.JWT_TTL_SECONDS}s`)
      .sign(await this.key);
  }

  /** Throws on any token that is not ours, unexpired and for our audience. */
  async verify(token: string): Promise<TokenClaims> {
    // Keyed by the exact token string: a tampered token is a different key and is verified afresh.
    const cached = this.verified.get(token);
    if (cached) return cached;
    const { payload } = await jwtVerify(token, await this.key, {
      algorithms: [ALGORITHM],
      issuer: this.config.JWT_ISSUER,
      audience: this.config.JWT_AUDIENCE,
      requiredClaims: ["sub", "exp", "iat"],
    });
    if (typeof payload.sub !== "string" || typeof payload.email !== "string") throw new Error("malformed claims");
    // A token issued in the future was not issued by us (or a clock is badly wrong): refuse it.
    if (payload.iat! > Date.now() / 1000 + ISSUED_AT_TOLERANCE_SECONDS) throw new Error("issued in the future");
    const claims = { sub: payload.sub, email: payload.email };
    this.verified.set(token, claims, payload.exp!);
    return claims;
  }
}
