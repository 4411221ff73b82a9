import { Injectable } from '@nestjs/common';
import { OAuthException } from '../../common/errors/oauth.exception';
import { AppConfig } from '../../config/app-config';
import { TenantsService } from '../../tenants/tenants.service';
import { AccessTokenService } from '../../tokens/access-token.service';
import { IssuedTokenResponseDto } from '../../tokens/dto/token-response.dto';
import { assertDpopPolicy, grantedScope, tokenTypeOf, TokenGrant, TokenRequest } from './token-grant';

/**
 * RFC 6749 §4.4. The client is the subject (`sub` = `client_id`); scope within the client's
 * scopes, all of them by default; no refresh token (§4.4.3: the client can ask again).
 */
@Injectable()
export class ClientCredentialsGrant implements TokenGrant {
  readonly grantType = 'client_credentials';
  readonly params = ['scope'] as const;

  constructor(
    private readonly accessTokens: AccessTokenService,
    private readonly tenants: TenantsService,
    private readonly config: AppConfig,
  ) {}

  async handle({ params, client, dpop }: TokenRequest): Promise<IssuedTokenResponseDto> {
    // §4.4.2: this grant is only for confidential clients, which must authenticate.
    if (!client)
      throw new OAuthException(
        'invalid_client',
        'client_credentials requires client authentication (client_secret_basic or client_secret_post)',
      );
    const scope = grantedScope(params.scope, client.scopes, client.scopes);
    const tenant = await this.tenants.settings(client.tenantId);
    assertDpopPolicy(tenant, { dpop });
    const access = await this.accessTokens.mint({
      tenantId: client.tenantId,
      sub: client.clientId,
      clientId: client.clientId,
      scope,
      audience: [this.config.defaultAudience],
      ttlSeconds: Math.min(this.config.accessTokenTtlSeconds, tenant.accessTokenMaxTtl),
      jkt: dpop?.jkt,
    });
    return { access_token: access.accessToken, token_type: tokenTypeOf(dpop?.jkt), expires_in: access.expiresIn, scope };
  }
}
