import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiKeyAuthenticator } from '../auth/api-key-authenticator.service';
import { actorOf } from '../auth/caller';
import { OAuthException } from '../common/errors/oauth.exception';
import { OAuthClientAuthenticator } from './client-authentication';

/** Who called /oauth/introspect or /oauth/revoke: always one tenant. */
export interface TenantCaller {
  tenantId: string;
  /** For the audit log: `api-key:<id>` or `client:<clientId>`, never a secret. */
  actor: string;
  /** Set when the caller authenticated as a client (not with the tenant's X-Api-Key). */
  clientId?: string;
}

/**
 * Authentication of /oauth/introspect (RFC 7662 §2.1) and /oauth/revoke (RFC 7009 §2.1): the
 * tenant's `X-Api-Key`, or that tenant's client credentials (client_secret_basic,
 * client_secret_post, or a client_assertion: private_key_jwt or a trusted issuer's token) — exactly one of them. The admin key names no tenant and is refused.
 * Every failure is `invalid_client` (401).
 */
@Injectable()
export class TenantCallerAuthenticator {
  constructor(
    private readonly apiKeys: ApiKeyAuthenticator,
    private readonly clients: OAuthClientAuthenticator,
  ) {}

  async authenticate(request: FastifyRequest, body: Record<string, unknown>): Promise<TenantCaller> {
    if (request.headers['x-api-key'] === undefined) {
      const client = await this.clients.authenticate(request, body);
      if (!client)
        throw new OAuthException('invalid_client', "Authenticate with the tenant's X-Api-Key or client credentials", 401, {
          'www-authenticate': 'Basic realm="tessera"',
        });
      return { tenantId: client.tenantId, actor: `client:${client.clientId}`, clientId: client.clientId };
    }
    if (
      /^Basic\s/i.test(request.headers.authorization ?? '') ||
      body.client_id !== undefined ||
      body.client_secret !== undefined ||
      body.client_assertion !== undefined ||
      body.client_assertion_type !== undefined
    ) {
      throw new OAuthException('invalid_request', 'Use one authentication method: X-Api-Key or client credentials, not both');
    }
    // Wrong, revoked or disabled-tenant keys; RATE_LIMITED (429) is thrown and keeps its status.
    const { caller } = await this.apiKeys.authenticate(request.headers['x-api-key'], request.ip);
    if (!caller) throw new OAuthException('invalid_client', 'X-Api-Key is unknown, revoked, or its tenant is disabled');
    if (caller.kind !== 'tenant') {
      throw new OAuthException('invalid_client', 'The admin key names no tenant: use a tenant API key or client credentials');
    }
    return { tenantId: caller.tenantId, actor: actorOf(caller) };
  }
}
