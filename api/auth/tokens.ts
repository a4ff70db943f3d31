/** Access tokens: HS256 JWTs signed and verified with jose, algorithm pinned, exp/iss/aud checked. */
import { jwtVerify, SignJWT } from "jose";
import type { ApiConfig } from "../config.ts";

const ALGORITHM = "HS256";

export interface TokenClaims {
  sub: string;
  email: string;
}

export class TokenService {
  private readonly key: Uint8Array;

  constructor(
    private readonly config: Pick<ApiConfig, "JWT_SECRET" | "JWT_ISSUER" | "JWT_AUDIENCE" | "JWT_TTL_SECONDS">,
  ) {
    this.key = new TextEncoder().encode(config.JWT_SECRET);
  }

  sign(claims: TokenClaims): Promise<string> {
    return new SignJWT({ email: claims.email })
      .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
      .setSubject(claims.sub)
      .setIssuer(this.config.JWT_ISSUER)
      .setAudience(this.config.JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.config.JWT_TTL_SECONDS}s`)
      .sign(this.key);
  }

  /** Throws on any token that is not ours, unexpired and for our audience. */
  async verify(token: string): Promise<TokenClaims> {
    const { payload } = await jwtVerify(token, this.key, {
      algorithms: [ALGORITHM],
      issuer: this.config.JWT_ISSUER,
      audience: this.config.JWT_AUDIENCE,
      requiredClaims: ["sub", "exp", "iat"],
    });
    if (typeof payload.sub !== "string" || typeof payload.email !== "string") throw new Error("malformed claims");
    return { sub: payload.sub, email: payload.email };
  }
}
