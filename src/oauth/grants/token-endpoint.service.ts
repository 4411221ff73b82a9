import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DpopError } from '@tessera/nest-guard';
import { OAuthException } from '../../common/errors/oauth.exception';
import { dpopOAuthException } from '../../dpop/dpop-errors';
import { DpopService } from '../../dpop/dpop.service';
import { IssuedTokenResponseDto } from '../../tokens/dto/token-response.dto';
import { OAuthClientAuthenticator, singleParam } from '../client-authentication';
import { TokenGrant } from './token-grant';

export const TOKEN_GRANTS = Symbol('TOKEN_GRANTS');

/**
 * `POST /oauth/token` (RFC 6749 §3.2): reads the parameters, authenticates the client when
 * credentials were sent, and hands the request to the grant named by grant_type.
 */
@Injectable()
export class TokenEndpointService {
  private readonly grants: ReadonlyMap<string, TokenGrant>;

  constructor(
    @Inject(TOKEN_GRANTS) grants: TokenGrant[],
    private readonly authenticator: OAuthClientAuthenticator,
    private readonly dpop: DpopService,
  ) {
    this.grants = new Map(grants.map((g) => [g.grantType, g]));
  }

  get grantTypes(): string[] {
    return [...this.grants.keys()];
  }

  async handle(request: FastifyRequest, body: unknown): Promise<IssuedTokenResponseDto> {
    if (body === undefined || body === null) body = {};
    if (typeof body !== 'object' || Array.isArray(body))
      throw new OAuthException('invalid_request', 'The body must be form parameters or a JSON object');
    const fields = body as Record<string, unknown>;
    const grantType = singleParam(fields, 'grant_type');
    if (grantType === undefined) throw new OAuthException('invalid_request', 'grant_type is required');
    const grant = this.grants.get(grantType);
    if (!grant) throw new OAuthException('unsupported_grant_type', `grant_type must be one of: ${this.grantTypes.join(', ')}`);
    const params = Object.fromEntries(grant.params.map((name) => [name, singleParam(fields, name)]));
    const client = await this.authenticator.authenticate(request, fields);
    const dpop = await this.verifyProof(request);
    if (client?.dpopBoundAccessTokens && !dpop) {
      throw new OAuthException(
        'invalid_dpop_proof',
        'This client’s tokens are DPoP-bound (dpopBoundAccessTokens): send a DPoP proof header (RFC 9449 §5.2)',
      );
    }
    return grant.handle({ params, client, dpop });
  }

  /**
   * RFC 9449 §5: a DPoP header makes the tokens bound to its key. The proof names this endpoint
   * (htu = PUBLIC_URL + path) and POST; its jti is used once on every replica. No header: unbound.
   */
  private async verifyProof(request: FastifyRequest): Promise<{ jkt: string } | undefined> {
    try {
      const proof = this.dpop.proofOf(request.headers);
      if (proof === undefined) return undefined;
      const { jkt } = await this.dpop.verify(proof, { method: request.method, url: this.dpop.urlOf(request.url) });
      return { jkt };
    } catch (error) {
      if (error instanceof DpopError) throw dpopOAuthException(error);
      throw error;
    }
  }
}
