import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CredentialFailureLimiter } from '../auth/credential-failure-limiter';
import { ClientInfo, ClientsService } from '../clients/clients.service';
import { OAuthException } from '../common/errors/oauth.exception';

/** RFC 6749 §5.2: a failed Basic authentication answers 401 with a challenge for that scheme. */
const BASIC_CHALLENGE = { 'www-authenticate': 'Basic realm="tessera"' };

interface PresentedCredentials {
  clientId: string;
  clientSecret: string | undefined;
  method: 'client_secret_basic' | 'client_secret_post';
}

/**
 * Client authentication for /oauth/* (RFC 6749 §2.3.1): `client_secret_basic` or
 * `client_secret_post`, never both in one request. Failed checks count against the caller's
 * IP in the credential-failure limiter, like wrong API keys.
 */
@Injectable()
export class OAuthClientAuthenticator {
  constructor(
    private readonly clients: ClientsService,
    private readonly limiter: CredentialFailureLimiter,
  ) {}

  /**
   * The authenticated client; undefined when no client credentials were sent. Throws
   * OAuthException invalid_request (ambiguous or malformed parameters) or invalid_client (401;
   * with `WWW-Authenticate: Basic` when Basic was used) when they were sent but are wrong.
   */
  async authenticate(request: FastifyRequest, body: Record<string, unknown>): Promise<ClientInfo | undefined> {
    // A missing or non-object body (no parameters at all) carries no client credentials.
    const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {};
    const presented = this.presented(request, fields);
    if (!presented) return undefined;
    const challenge = presented.method === 'client_secret_basic' ? BASIC_CHALLENGE : {};
    this.limiter.assertAllowed(request.ip);
    // No public clients exist: a client_id without a secret cannot authenticate.
    const client = presented.clientSecret ? await this.clients.authenticate(presented.clientId, presented.clientSecret) : undefined;
    if (!client) {
      this.limiter.recordFailure(request.ip);
      throw new OAuthException('invalid_client', 'Client authentication failed', 401, challenge);
    }
    return client;
  }

  private presented(request: FastifyRequest, body: Record<string, unknown>): PresentedCredentials | undefined {
    const bodyId = singleParam(body, 'client_id');
    const bodySecret = singleParam(body, 'client_secret');
    const basic = basicCredentials(request.headers.authorization);
    if (basic) {
      if (bodySecret !== undefined) {
        throw new OAuthException('invalid_request', 'Use one client authentication method: Basic or client_secret in the body, not both');
      }
      if (bodyId !== undefined && bodyId !== basic.clientId) {
        throw new OAuthException('invalid_request', 'client_id in the body differs from the one in the Authorization header');
      }
      return { ...basic, method: 'client_secret_basic' };
    }
    if (bodyId === undefined) {
      if (bodySecret !== undefined) throw new OAuthException('invalid_request', 'client_secret was sent without client_id');
      return undefined;
    }
    return { clientId: bodyId, clientSecret: bodySecret, method: 'client_secret_post' };
  }
}

/** A parameter that must be a single string; '' counts as absent (RFC 6749 §3.1). */
export function singleParam(body: Record<string, unknown>, name: string): string | undefined {
  const value = Object.hasOwn(body, name) ? body[name] : undefined;
  if (value === undefined || value === null || value === '') return undefined;
  if (Array.isArray(value)) throw new OAuthException('invalid_request', `${name} was sent more than once`);
  if (typeof value !== 'string') throw new OAuthException('invalid_request', `${name} must be a string`);
  return value;
}

/**
 * `Authorization: Basic base64(urlencode(client_id) ":" urlencode(client_secret))` (RFC 6749
 * §2.3.1). Undefined for another scheme or no header; a malformed Basic value is a failed
 * authentication (invalid_client with the challenge).
 */
function basicCredentials(header: string | undefined): { clientId: string; clientSecret: string } | undefined {
  if (!header) return undefined;
  const match = /^Basic +([A-Za-z0-9+/=._~-]*) *$/i.exec(header);
  if (!match) {
    if (/^Basic(\s|$)/i.test(header)) throw new OAuthException('invalid_client', 'Malformed Basic credentials', 401, BASIC_CHALLENGE);
    return undefined;
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new OAuthException('invalid_client', 'Malformed Basic credentials', 401, BASIC_CHALLENGE);
  try {
    const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw new OAuthException('invalid_client', 'Malformed Basic credentials', 401, BASIC_CHALLENGE);
  }
}
