import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CredentialFailureLimiter } from '../auth/credential-failure-limiter';
import { ClientInfo, ClientsService } from '../clients/clients.service';
import { OAuthException } from '../common/errors/oauth.exception';
import { AppConfig } from '../config/app-config';
import { SecretlessAuthenticator } from '../trusted-issuers/secretless-authenticator.service';

/** RFC 6749 §5.2: a failed Basic authentication answers 401 with a challenge for that scheme. */
const BASIC_CHALLENGE = { 'www-authenticate': 'Basic realm="tessera"' };

/** RFC 7521 §4.2: the one client_assertion_type there is for JWTs (RFC 7523 §2.2). */
export const JWT_CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

type PresentedCredentials =
  | { method: 'client_secret_basic' | 'client_secret_post'; clientId: string; clientSecret: string | undefined }
  | { method: 'client_assertion'; clientId: string | undefined; assertion: string };

/**
 * Client authentication for /oauth/* (RFC 6749 §2.3.1, RFC 7521 §4.2): `client_secret_basic`,
 * `client_secret_post`, or a JWT `client_assertion` — a private_key_jwt client's own assertion or
 * a trusted issuer's token (SecretlessAuthenticator) — exactly one of them per request. Failed
 * checks count against the caller's IP in the credential-failure limiter, like wrong API keys.
 */
@Injectable()
export class OAuthClientAuthenticator {
  constructor(
    private readonly clients: ClientsService,
    private readonly limiter: CredentialFailureLimiter,
    private readonly secretless: SecretlessAuthenticator,
    private readonly config: AppConfig,
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
    if (presented.method === 'client_assertion') return this.authenticateAssertion(request, presented.assertion, presented.clientId);
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

  /** RFC 7521 §4.2: the assertion authenticates the client; a refusal is invalid_client (audited by SecretlessAuthenticator). */
  private async authenticateAssertion(request: FastifyRequest, assertion: string, clientId: string | undefined): Promise<ClientInfo> {
    this.limiter.assertAllowed(request.ip);
    try {
      const { client } = await this.secretless.authenticate({
        assertion,
        clientId,
        endpoint: this.endpointUrl(request),
        usage: 'client_assertion',
        requestId: request.id,
      });
      return client;
    } catch (error) {
      if (error instanceof OAuthException && error.error === 'invalid_client') this.limiter.recordFailure(request.ip);
      throw error;
    }
  }

  /** The URL of the endpoint called, as the client addressed it under PUBLIC_URL (an accepted assertion `aud`). */
  private endpointUrl(request: FastifyRequest): string {
    const path = (request.url ?? '').split('?')[0];
    return `${this.config.publicUrl}${path}`;
  }

  private presented(request: FastifyRequest, body: Record<string, unknown>): PresentedCredentials | undefined {
    const bodyId = singleParam(body, 'client_id');
    const bodySecret = singleParam(body, 'client_secret');
    const assertionType = singleParam(body, 'client_assertion_type');
    const assertion = singleParam(body, 'client_assertion');
    if (assertionType !== undefined || assertion !== undefined) {
      if (bodySecret !== undefined || /^Basic(\s|$)/i.test(request.headers.authorization ?? '')) {
        throw new OAuthException(
          'invalid_request',
          'Use one client authentication method: a client_assertion, Basic or client_secret, not several',
        );
      }
      if (assertionType !== JWT_CLIENT_ASSERTION_TYPE)
        throw new OAuthException('invalid_request', `client_assertion_type must be ${JWT_CLIENT_ASSERTION_TYPE}`);
      if (assertion === undefined) throw new OAuthException('invalid_request', 'client_assertion is required with client_assertion_type');
      return { method: 'client_assertion', clientId: bodyId, assertion };
    }
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
