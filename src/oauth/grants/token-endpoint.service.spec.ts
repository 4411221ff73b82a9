import type { FastifyRequest } from 'fastify';
import { OAuthException } from '../../common/errors/oauth.exception';
import { DpopService } from '../../dpop/dpop.service';
import { OAuthClientAuthenticator } from '../client-authentication';
import { TokenEndpointService } from './token-endpoint.service';
import { TokenGrant } from './token-grant';

const RESPONSE = { access_token: 'a.b.c', token_type: 'Bearer' as const, expires_in: 60, scope: '' };

function setup(client?: object) {
  const grant: TokenGrant = { grantType: 'client_credentials', params: ['scope'], handle: jest.fn().mockResolvedValue(RESPONSE) };
  const other: TokenGrant = {
    grantType: 'refresh_token',
    params: ['refresh_token', 'scope'],
    handle: jest.fn().mockResolvedValue(RESPONSE),
  };
  const authenticate = jest.fn().mockResolvedValue(client);
  const dpop = { proofOf: () => undefined } as unknown as DpopService;
  const service = new TokenEndpointService([grant, other], { authenticate } as unknown as OAuthClientAuthenticator, dpop);
  return { service, grant, other, authenticate };
}

const request = { headers: {} } as FastifyRequest;

async function oauthError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OAuthException);
    return (error as OAuthException).error;
  }
  throw new Error('expected an OAuthException');
}

describe('TokenEndpointService', () => {
  describe('handle', () => {
    it('dispatches to the grant named by grant_type with its declared parameters only and the authenticated client', async () => {
      const client = { clientId: 'c', tenantId: 't', scopes: [] };
      const { service, grant, other } = setup(client);
      expect(await service.handle(request, { grant_type: 'client_credentials', scope: 'a', refresh_token: 'ignored', extra: 'x' })).toBe(
        RESPONSE,
      );
      expect(grant.handle).toHaveBeenCalledWith({ params: { scope: 'a' }, client });
      expect(other.handle).not.toHaveBeenCalled();
      await service.handle(request, { grant_type: 'refresh_token', refresh_token: 'r', scope: '' });
      expect(other.handle).toHaveBeenCalledWith({ params: { refresh_token: 'r', scope: undefined }, client });
    });

    it('answers unsupported_grant_type for unknown grants, before any client authentication', async () => {
      const { service, authenticate } = setup();
      expect(await oauthError(service.handle(request, { grant_type: 'password' }))).toBe('unsupported_grant_type');
      expect(authenticate).not.toHaveBeenCalled();
    });

    it('answers invalid_request for a missing grant_type or a body that is not an object', async () => {
      const { service } = setup();
      for (const body of [{}, undefined, null, { grant_type: '' }])
        expect(await oauthError(service.handle(request, body))).toBe('invalid_request');
      for (const body of [[], 'grant_type=x', 5]) expect(await oauthError(service.handle(request, body))).toBe('invalid_request');
      expect(await oauthError(service.handle(request, { grant_type: 'client_credentials', scope: ['a', 'b'] }))).toBe('invalid_request');
    });

    it('lists the grant types it serves', () => {
      expect(setup().service.grantTypes).toEqual(['client_credentials', 'refresh_token']);
    });
  });
});
