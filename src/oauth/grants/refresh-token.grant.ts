import { Injectable } from '@nestjs/common';
import { parseScope } from '../../clients/scope';
import { RefreshTokensService } from '../../refresh/refresh-tokens.service';
import { TenantsService } from '../../tenants/tenants.service';
import { AccessTokenService } from '../../tokens/access-token.service';
import { IssuedTokenResponseDto } from '../../tokens/dto/token-response.dto';
import { assertDpopPolicy, grantedScope, requiredParam, tokenTypeOf, TokenGrant, TokenRequest } from './token-grant';

/**
 * RFC 6749 §6 with rotation: the presented token is used up and a new one answered (reuse
 * detection and the grace window live in RefreshTokensService). A token issued to a client
 * needs that client's authentication; one issued through /v1/tenants/:id/tokens needs none.
 */
@Injectable()
export class RefreshTokenGrant implements TokenGrant {
  readonly grantType = 'refresh_token';
  readonly params = ['refresh_token', 'scope'] as const;

  constructor(
    private readonly refreshTokens: RefreshTokensService,
    private readonly accessTokens: AccessTokenService,
    private readonly tenants: TenantsService,
  ) {}

  async handle(request: TokenRequest): Promise<IssuedTokenResponseDto> {
    const presented = requiredParam(request, 'refresh_token');
    // A malformed scope is refused before the token is used up; a wider one inside the rotation
    // statement, so a refused request never rotates (and never looks like reuse afterwards).
    grantedScope(request.params.scope, undefined, []);
    const asked = request.params.scope === undefined ? null : parseScope(request.params.scope)!;
    const jkt = request.dpop?.jkt ?? null;
    // A bound family (RFC 9449 §5) rotates only with a proof of its key: checked inside the rotation statement.
    const rotated = await this.refreshTokens.rotate(
      presented,
      request.client?.clientId ?? null,
      request.client?.tenantId ?? null,
      asked,
      jkt,
    );
    const { context } = rotated;
    assertDpopPolicy(await this.tenants.settings(context.tenantId), request);
    // §6: a narrower scope may be asked for the new access token; the family keeps its scope.
    const granted = context.scope === '' ? [] : context.scope.split(' ');
    const scope = grantedScope(request.params.scope, granted, granted);
    const access = await this.accessTokens.mint({
      tenantId: context.tenantId,
      sub: context.sub,
      clientId: context.clientId,
      scope,
      audience: context.audience,
      claims: context.claims,
      // Already capped by the tenant's current maximum (RefreshTokensService).
      ttlSeconds: context.accessTokenTtl,
      jkt,
    });
    return {
      access_token: access.accessToken,
      token_type: tokenTypeOf(jkt),
      expires_in: access.expiresIn,
      refresh_token: rotated.refreshToken,
      refresh_expires_in: rotated.expiresIn,
      scope,
    };
  }
}
