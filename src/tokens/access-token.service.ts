import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { AppConfig } from '../config/app-config';
import { SigningService } from '../keys/signing.service';

/** Verifiers refuse tokens over 8 KB (docs/errors.md), so nothing longer is issued. */
export const MAX_ACCESS_TOKEN_BYTES = 8192;

export interface MintInput {
  tenantId: string;
  sub: string;
  /** The OAuth client the token is for; null when a tenant backend asked for it directly. */
  clientId: string | null;
  /** Space-separated, already checked. */
  scope: string;
  audience: string[];
  /** Custom claims, already checked against the reserved names. */
  claims?: Record<string, unknown> | null;
  ttlSeconds: number;
  /** RFC 7638 thumbprint of the DPoP proof's key: the token is bound to it (RFC 9449 §6.1 `cnf.jkt`). */
  jkt?: string | null;
}

export interface MintedAccessToken {
  accessToken: string;
  expiresIn: number;
  jti: string;
  exp: number;
}

/** Mints RFC 9068 access tokens, signed with the active key (header {alg, kid, typ: "at+jwt"}). */
@Injectable()
export class AccessTokenService {
  constructor(
    private readonly signing: SigningService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  async mint(input: MintInput): Promise<MintedAccessToken> {
    const iat = this.clock.nowSeconds();
    const exp = iat + input.ttlSeconds;
    const jti = randomUUID();
    // Custom claims first: the claims Tessera sets always win, even if a caller slipped one past validation.
    const payload: Record<string, unknown> = {
      ...(input.claims ?? {}),
      iss: this.config.publicUrl,
      sub: input.sub,
      aud: input.audience.length === 1 ? input.audience[0] : input.audience,
      exp,
      iat,
      nbf: iat,
      jti,
      // RFC 9068 §2.2 requires client_id. A token asked for by a tenant backend (no OAuth client)
      // names the tenant as its client: the tenant is the party the token was issued to.
      client_id: input.clientId ?? input.tenantId,
      scope: input.scope,
      tenant_id: input.tenantId,
      ...(input.jkt ? { cnf: { jkt: input.jkt } } : {}),
    };
    const accessToken = await this.signing.sign(payload);
    if (Buffer.byteLength(accessToken, 'utf8') > MAX_ACCESS_TOKEN_BYTES) {
      throw new AppException(
        ErrorCode.VALIDATION_FAILED,
        `Invalid request: the access token would be longer than ${MAX_ACCESS_TOKEN_BYTES} bytes; ask for fewer scopes, audiences or claims`,
      );
    }
    return { accessToken, expiresIn: input.ttlSeconds, jti, exp };
  }
}
