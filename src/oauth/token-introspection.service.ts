import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { boundJkt, TokenError } from '@tessera/nest-guard';
import { OAuthException } from '../common/errors/oauth.exception';
import { TokenVerifierService, VerifiedToken } from '../verification/token-verifier.service';
import { singleParam } from './client-authentication';
import { IntrospectionResponseDto } from './dto/introspect-response.dto';
import { TenantCallerAuthenticator } from './tenant-caller-authentication';

/** Members the introspection answer sets itself; a claim of the same name never overrides them. */
const ANSWER_MEMBERS = new Set([
  'active',
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'nbf',
  'jti',
  'scope',
  'client_id',
  'tenant_id',
  'token_type',
  'username',
  'cnf',
]);

export const INACTIVE: IntrospectionResponseDto = Object.freeze({ active: false });

/**
 * RFC 7662 for the caller's tenant. Tessera access tokens and tokens signed by the tenant's
 * registered keys are verified in full (signature, times, audience, denylist); anything
 * else — expired, revoked, malformed, unknown, another tenant's, a refresh token — is exactly
 * `{"active": false}`, so the answer tells a caller nothing about other tenants.
 */
@Injectable()
export class TokenIntrospectionService {
  constructor(
    private readonly callers: TenantCallerAuthenticator,
    private readonly verifier: TokenVerifierService,
  ) {}

  async handle(request: FastifyRequest, body: unknown): Promise<IntrospectionResponseDto> {
    const params = formParams(body);
    const caller = await this.callers.authenticate(request, params);
    const token = singleParam(params, 'token');
    if (token === undefined) throw new OAuthException('invalid_request', 'token is required');
    // token_type_hint (RFC 7662 §2.1) is only a hint: the token's shape decides; any value is accepted.
    singleParam(params, 'token_type_hint');

    // Refresh tokens are opaque and never leave Tessera's clients: no resource server needs
    // them introspected, so they are not vouched for (inactive), like any non-JWT.
    if (!token.includes('.')) return INACTIVE;
    let verified: VerifiedToken;
    try {
      verified = await this.verifier.verify(token);
    } catch (error) {
      if (error instanceof TokenError) return INACTIVE;
      throw error; // the database is down (registered-key look-up): 503, never a false "inactive"
    }
    if (verified.tenantId !== caller.tenantId) return INACTIVE;
    return answer(verified);
  }
}

function answer({ claims, tenantId }: VerifiedToken): IntrospectionResponseDto {
  const extra = Object.fromEntries(Object.entries(claims).filter(([name]) => !ANSWER_MEMBERS.has(name)));
  const pick = (name: string) => (claims[name] === undefined ? {} : { [name]: claims[name] });
  return {
    active: true,
    ...pick('iss'),
    ...pick('sub'),
    ...pick('aud'),
    ...pick('exp'),
    ...pick('iat'),
    ...pick('nbf'),
    ...pick('jti'),
    ...pick('scope'),
    ...pick('client_id'),
    tenant_id: tenantId,
    // RFC 9449 §6.2: a bound token is introspected with its cnf and token_type DPoP.
    token_type: boundJkt(claims) === undefined ? 'Bearer' : 'DPoP',
    ...pick('cnf'),
    ...extra,
  } as IntrospectionResponseDto;
}

/** The body as parameters: form (already an object) or JSON; anything else is invalid_request. */
export function formParams(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw new OAuthException('invalid_request', 'The body must be form parameters or a JSON object');
  return body as Record<string, unknown>;
}
