import { Injectable } from '@nestjs/common';
import { TokenError } from '@tessera/nest-guard';
import { parseScope } from '../../clients/scope';
import { Clock } from '../../common/clock';
import { OAuthException } from '../../common/errors/oauth.exception';
import { AppConfig } from '../../config/app-config';
import { TenantsService } from '../../tenants/tenants.service';
import { AccessTokenService } from '../../tokens/access-token.service';
import { IssuedTokenResponseDto } from '../../tokens/dto/token-response.dto';
import { SecretlessAuthenticator } from '../../trusted-issuers/secretless-authenticator.service';
import { MAX_ASSERTION_LIFETIME_SECONDS, TokenVerifierService } from '../../verification/token-verifier.service';
import { JwtBearerJtiRepository } from './jwt-bearer-jti.repository';
import { assertDpopPolicy, grantedScope, requiredParam, tokenTypeOf, TokenGrant, TokenRequest } from './token-grant';

export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const MAX_JTI_LENGTH = 256;

/**
 * RFC 7523 §2.1: a tenant backend exchanges an assertion signed with one of its registered
 * keys for a Tessera access token about the assertion's `sub`. The tenant is the key's, never
 * a claim's. Each `jti` is accepted once (until the assertion expires). Scope never widens
 * (docs/adr/0014): at most the assertion's `scope` claim, narrowed to the client's scopes when a
 * client authenticated; with neither, none. The token lives no longer than the assertion. No
 * refresh token: the backend signs a new assertion instead. Used ids are purged by JwtBearerJtiPurgeJob.
 */
@Injectable()
export class JwtBearerGrant implements TokenGrant {
  readonly grantType = JWT_BEARER_GRANT_TYPE;
  readonly params = ['assertion', 'scope'] as const;

  constructor(
    private readonly verifier: TokenVerifierService,
    private readonly jtis: JwtBearerJtiRepository,
    private readonly accessTokens: AccessTokenService,
    private readonly tenants: TenantsService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly secretless: SecretlessAuthenticator,
  ) {}

  async handle(request: TokenRequest): Promise<IssuedTokenResponseDto> {
    const assertion = requiredParam(request, 'assertion');
    if (await this.secretless.namesTrustedIssuer(assertion)) return this.handleTrustedIssuerToken(assertion, request);
    let verified;
    try {
      verified = await this.verifier.verifyAssertion(assertion);
    } catch (error) {
      if (error instanceof TokenError)
        throw new OAuthException('invalid_grant', `The assertion was refused: ${error.code}: ${error.message}`);
      throw error;
    }
    const { tenantId, claims, kid } = verified;
    const { client } = request;
    if (client && client.tenantId !== tenantId) {
      throw new OAuthException('invalid_grant', "The assertion was signed by another tenant's key than the client's");
    }
    const { jti, sub } = claims;
    if (typeof jti !== 'string' || jti.length > MAX_JTI_LENGTH) {
      throw new OAuthException('invalid_grant', `The assertion's jti must be a string of at most ${MAX_JTI_LENGTH} characters`);
    }
    if (typeof sub !== 'string') throw new OAuthException('invalid_grant', "The assertion's sub must be a string");

    const scope = jwtBearerScope(request.params.scope, claims.scope, client?.scopes);
    const now = this.clock.now();
    const ttlSeconds = jwtBearerTtlSeconds(claims.exp as number, now, this.config.accessTokenTtlSeconds);
    // Kept until the assertion could no longer pass verification (exp plus the clock tolerance).
    const usableUntil = new Date(((claims.exp as number) + this.config.clockToleranceSeconds) * 1000);
    const [firstUse, tenant] = await Promise.all([
      this.jtis.consume(tenantId, jti, kid, usableUntil, now),
      this.tenants.settings(tenantId),
    ]);
    if (!firstUse) throw new OAuthException('invalid_grant', 'The assertion was already used (its jti is single-use)');
    if (tenant.isDisabled) throw new OAuthException('invalid_grant', 'The tenant is disabled');
    assertDpopPolicy(tenant, request);

    const access = await this.accessTokens.mint({
      tenantId,
      sub,
      clientId: client?.clientId ?? null,
      scope,
      audience: [this.config.defaultAudience],
      ttlSeconds: Math.min(ttlSeconds, tenant.accessTokenMaxTtl),
      jkt: request.dpop?.jkt,
    });
    return { access_token: access.accessToken, token_type: tokenTypeOf(request.dpop?.jkt), expires_in: access.expiresIn, scope };
  }

  /**
   * A trusted issuer's token (docs/adr/0018) authenticates as the entry's client (refusals are
   * invalid_client, audited): the token is that client's, as with client_credentials — sub and
   * client_id are the client, scope within what the entry allows — and lives no longer than the
   * assertion. A client that also authenticated otherwise must be that same client.
   */
  private async handleTrustedIssuerToken(assertion: string, request: TokenRequest): Promise<IssuedTokenResponseDto> {
    const { client, assertionExp } = await this.secretless.authenticate({
      assertion,
      clientId: request.client?.clientId,
      endpoint: `${this.config.publicUrl}/oauth/token`,
      usage: 'jwt_bearer',
    });
    if (request.client && request.client.clientId !== client.clientId) {
      throw new OAuthException('invalid_grant', 'The assertion authenticates another client than the one that authenticated');
    }
    const scope = grantedScope(request.params.scope, client.scopes, client.scopes);
    const tenant = await this.tenants.settings(client.tenantId);
    assertDpopPolicy(tenant, request);
    const remaining = Math.floor(assertionExp - this.clock.now().getTime() / 1000);
    if (remaining < 1) throw new OAuthException('invalid_grant', 'The assertion has expired: present a new one');
    const access = await this.accessTokens.mint({
      tenantId: client.tenantId,
      sub: client.clientId,
      clientId: client.clientId,
      scope,
      audience: [this.config.defaultAudience],
      ttlSeconds: Math.min(this.config.accessTokenTtlSeconds, tenant.accessTokenMaxTtl, remaining),
      jkt: request.dpop?.jkt,
    });
    return { access_token: access.accessToken, token_type: tokenTypeOf(request.dpop?.jkt), expires_in: access.expiresIn, scope };
  }
}

/**
 * The scope a jwt-bearer grant may give (docs/adr/0014). What the assertion carries bounds it, and
 * a client that authenticated narrows it further; where the assertion has no `scope` claim the
 * client's scopes are the bound; with neither, the bound is empty, so any `scope` parameter is
 * `invalid_scope`. Whoever holds a bearer token must never turn it into a wider one. Default
 * (no `scope` parameter): the assertion's scope within the client's, else none.
 */
export function jwtBearerScope(
  requested: string | undefined,
  assertionScope: unknown,
  clientScopes: readonly string[] | undefined,
): string {
  let fromAssertion: string[] | undefined;
  if (assertionScope !== undefined) {
    fromAssertion = typeof assertionScope === 'string' ? parseScope(assertionScope) : undefined;
    if (!fromAssertion) throw new OAuthException('invalid_grant', "The assertion's scope claim must be space-separated scope tokens");
  }
  const allowed =
    fromAssertion && clientScopes ? fromAssertion.filter((s) => clientScopes.includes(s)) : (fromAssertion ?? clientScopes ?? []);
  const asked = requested ?? (fromAssertion ? allowed.join(' ') : undefined);
  return grantedScope(asked, allowed, []);
}

/**
 * The issued token's lifetime: ACCESS_TOKEN_TTL, at most 600 s (docs/design.md's assertion bound), and
 * never past the assertion's own `exp`, so an exchange cannot outlive what it exchanged. An
 * assertion with less than a second left (accepted only within the clock tolerance) is refused.
 */
export function jwtBearerTtlSeconds(assertionExp: number, now: Date, accessTokenTtlSeconds: number): number {
  const remaining = Math.floor(assertionExp - now.getTime() / 1000);
  if (remaining < 1) throw new OAuthException('invalid_grant', 'The assertion has expired: sign a new one');
  return Math.min(accessTokenTtlSeconds, MAX_ASSERTION_LIFETIME_SECONDS, remaining);
}
