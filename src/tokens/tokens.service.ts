import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DpopError } from '@tessera/nest-guard';
import { ClientInfo, ClientsService } from '../clients/clients.service';
import { formatScope, MAX_SCOPE_TOKEN_LENGTH, MAX_SCOPES, parseScope, scopesOutside } from '../clients/scope';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { AppConfig } from '../config/app-config';
import { dpopAppException } from '../dpop/dpop-errors';
import { DpopService } from '../dpop/dpop.service';
import { RefreshTokensService } from '../refresh/refresh-tokens.service';
import { TenantSettings, TenantsService } from '../tenants/tenants.service';
import { AccessTokenService } from './access-token.service';
import { customClaimsProblem } from './claims';
import { IssueTokenDto } from './dto/issue-token.dto';
import { IssuedTokenResponseDto } from './dto/token-response.dto';

const invalid = (message: string) => new AppException(ErrorCode.VALIDATION_FAILED, `Invalid request: ${message}`);

/** `POST /v1/tenants/:tenantId/tokens`: a tenant backend asks for tokens for one of its subjects. */
@Injectable()
export class TokensService {
  constructor(
    private readonly tenants: TenantsService,
    private readonly clients: ClientsService,
    private readonly accessTokens: AccessTokenService,
    private readonly refreshTokens: RefreshTokensService,
    private readonly config: AppConfig,
    private readonly dpop: DpopService,
  ) {}

  /** `request`: its DPoP header, method and URL, when the caller sends a proof (RFC 9449 §5). */
  async issue(
    tenantId: string,
    dto: IssueTokenDto,
    request?: Pick<FastifyRequest, 'headers' | 'method' | 'url'>,
  ): Promise<IssuedTokenResponseDto> {
    // Two independent reads, side by side; the only write is the refresh-token row.
    const [tenant, client] = await Promise.all([
      this.tenants.settings(tenantId),
      dto.clientId === undefined ? Promise.resolve(undefined) : this.clients.findForTenant(tenantId, dto.clientId),
    ]);
    if (tenant.isDisabled) throw new AppException(ErrorCode.TENANT_FORBIDDEN, 'Tenant is disabled');
    if (dto.clientId !== undefined && !client) throw invalid('clientId does not name a client of this tenant');

    const ttlSeconds = this.accessTokenTtl(tenant, dto.accessTokenTtl);
    const claims = dto.claims ?? null;
    const problem = claims && customClaimsProblem(claims);
    if (problem) throw invalid(problem);
    const scope = this.scope(dto.scope, client);
    const audience = dto.audience === undefined ? [this.config.defaultAudience] : [...new Set([dto.audience].flat())];

    const jkt = request ? await this.proofKey(request) : undefined;
    if ((tenant.requireDpop || client?.dpopBoundAccessTokens) && jkt === undefined) {
      const who = tenant.requireDpop ? 'This tenant (requireDpop)' : 'This client (dpopBoundAccessTokens)';
      throw dpopAppException(
        new DpopError('invalid_dpop_proof', `${who} gets DPoP-bound tokens only: send a DPoP proof header (RFC 9449)`),
        this.dpop.algorithms,
      );
    }

    // RFC 9449 §5: a public caller's refresh token (no client) is bound to the proof's key as well.
    const bindRefresh = jkt !== undefined && client === undefined;
    const context = {
      tenantId,
      sub: dto.sub,
      clientId: client?.clientId ?? null,
      scope,
      audience,
      claims,
      accessTokenTtl: ttlSeconds,
      ...(bindRefresh ? { dpopJkt: jkt } : {}),
    };
    const access = await this.accessTokens.mint({ ...context, ttlSeconds, ...(jkt === undefined ? {} : { jkt }) });
    const response: IssuedTokenResponseDto = {
      access_token: access.accessToken,
      token_type: jkt ? 'DPoP' : 'Bearer',
      expires_in: access.expiresIn,
      scope,
    };
    // Refresh tokens are on by default, as the design's answer shape lists them; refreshToken: false opts out.
    if (dto.refreshToken ?? true) {
      const refresh = await this.refreshTokens.issue(context);
      response.refresh_token = refresh.refreshToken;
      response.refresh_expires_in = refresh.expiresIn;
    }
    return response;
  }

  /** The key of the request's DPoP proof (htm POST, htu PUBLIC_URL + path), or undefined without one. */
  private async proofKey(request: Pick<FastifyRequest, 'headers' | 'method' | 'url'>): Promise<string | undefined> {
    try {
      const proof = this.dpop.proofOf(request.headers);
      if (proof === undefined) return undefined;
      return (await this.dpop.verify(proof, { method: request.method, url: this.dpop.urlOf(request.url) })).jkt;
    } catch (error) {
      if (error instanceof DpopError) throw dpopAppException(error, this.dpop.algorithms);
      throw error;
    }
  }

  /** Whole seconds from 10 to the tenant's maximum; by default ACCESS_TOKEN_TTL capped by that maximum. */
  private accessTokenTtl(tenant: TenantSettings, requested: number | undefined): number {
    if (requested === undefined) return Math.min(this.config.accessTokenTtlSeconds, tenant.accessTokenMaxTtl);
    if (requested > tenant.accessTokenMaxTtl) {
      throw invalid(`accessTokenTtl must be between 10 and ${tenant.accessTokenMaxTtl} seconds (the tenant's accessTokenMaxTtl)`);
    }
    return requested;
  }

  /** No scope asked for means none: a tenant grants scopes explicitly. With a client, every scope must be one of its own. */
  private scope(requested: string | undefined, client: ClientInfo | undefined): string {
    if (requested === undefined) return '';
    const tokens = parseScope(requested);
    if (!tokens)
      throw invalid(
        `scope must be space-separated scope tokens (RFC 6749 §3.3), at most ${MAX_SCOPES}, each at most ${MAX_SCOPE_TOKEN_LENGTH} characters`,
      );
    if (client) {
      const outside = scopesOutside(tokens, client.scopes);
      if (outside.length > 0)
        throw invalid(`scope ${outside.map((s) => `"${s}"`).join(', ')} is not allowed for client ${client.clientId}`);
    }
    return formatScope(tokens);
  }
}
