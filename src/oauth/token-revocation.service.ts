import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { TokenError } from '@tessera/nest-guard';
import { OAuthException } from '../common/errors/oauth.exception';
import { RefreshTokensService } from '../refresh/refresh-tokens.service';
import { RevocationService } from '../revocation/revocation.service';
import { TokenVerifierService, VerifiedToken } from '../verification/token-verifier.service';
import { singleParam } from './client-authentication';
import { TenantCallerAuthenticator } from './tenant-caller-authentication';
import { formParams } from './token-introspection.service';

/**
 * RFC 7009 for the caller's tenant. A refresh token ends its whole family; an access token
 * (Tessera's, or a registered-key token with a jti) goes on the denylist until it expires,
 * reaching every replica within a second. Unknown, invalid, expired, already revoked and
 * other tenants' tokens change nothing and still answer 200 (§2.2), so the endpoint reveals
 * nothing about them.
 */
/** RFC 7009 §2.1: "the request is refused and the client is informed of the error" (fosite and Hydra: unauthorized_client). */
export function notThisClients(): OAuthException {
  return new OAuthException(
    'unauthorized_client',
    "A client may revoke only tokens issued to it (their client_id is the client's); revoke other tokens of the tenant with its X-Api-Key",
  );
}

@Injectable()
export class TokenRevocationService {
  constructor(
    private readonly callers: TenantCallerAuthenticator,
    private readonly verifier: TokenVerifierService,
    private readonly revocations: RevocationService,
    private readonly refreshTokens: RefreshTokensService,
  ) {}

  async handle(request: FastifyRequest, body: unknown): Promise<void> {
    const params = formParams(body);
    const caller = await this.callers.authenticate(request, params);
    const token = singleParam(params, 'token');
    if (token === undefined) throw new OAuthException('invalid_request', 'token is required');
    // token_type_hint (RFC 7009 §2.1) is only a hint: the token's shape decides, so a wrong or
    // unknown hint never stops a revocation and unsupported_token_type is never needed.
    singleParam(params, 'token_type_hint');

    if (!token.includes('.')) {
      await this.refreshTokens.revokeFamilyByToken(token, caller.tenantId, caller.actor, request.id, caller.clientId);
      return;
    }
    let verified: VerifiedToken;
    try {
      // Any genuine, live token of the tenant can be revoked, whatever audience it was issued for.
      verified = await this.verifier.verify(token, { ignoreAudience: true });
    } catch (error) {
      if (error instanceof TokenError) return; // invalid, expired or already revoked: nothing to do
      throw error;
    }
    const { jti, exp } = verified.claims;
    // A registered-key token without jti cannot be named on the denylist: delete its key, or revoke its subject.
    if (verified.tenantId !== caller.tenantId || typeof jti !== 'string' || typeof exp !== 'number') return;
    // RFC 7009 §2.1: a client revokes only tokens issued to it (docs/adr/0013-registered-token-trust.md).
    if (caller.clientId !== undefined && verified.claims.client_id !== caller.clientId) throw notThisClients();
    await this.revocations.revokeAccessToken(verified.tenantId, jti, new Date(exp * 1000), caller.actor, request.id);
  }
}
