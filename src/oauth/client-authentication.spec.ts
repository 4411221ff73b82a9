import type { FastifyRequest } from 'fastify';
import { CredentialFailureLimiter } from '../auth/credential-failure-limiter';
import { ClientsService } from '../clients/clients.service';
import { OAuthException } from '../common/errors/oauth.exception';
import { AppConfig } from '../config/app-config';
import { SecretlessAuthenticator } from '../trusted-issuers/secretless-authenticator.service';
import { JWT_CLIENT_ASSERTION_TYPE, OAuthClientAuthenticator, singleParam } from './client-authentication';

const CLIENT = { clientId: 'tcl_0123456789abcdef01234567', tenantId: 't', scopes: ['a'] };
const SECRET = 'tcs_secret';

function setup() {
  const authenticate = jest.fn(async (id: string, secret: string) => (id === CLIENT.clientId && secret === SECRET ? CLIENT : undefined));
  const limiter = { assertAllowed: jest.fn(), recordFailure: jest.fn() };
  const secretless = {
    authenticate: jest.fn(async (r: { assertion: string }) => {
      if (r.assertion === 'good.assertion.jwt') return { client: CLIENT, method: 'private_key_jwt', assertionExp: 0 };
      throw new OAuthException('invalid_client', 'refused');
    }),
  };
  const config = { publicUrl: 'https://tessera.test' } as AppConfig;
  const authenticator = new OAuthClientAuthenticator(
    { authenticate } as unknown as ClientsService,
    limiter as unknown as CredentialFailureLimiter,
    secretless as unknown as SecretlessAuthenticator,
    config,
  );
  return { authenticator, authenticate, limiter, secretless };
}

const request = (authorization?: string) =>
  ({ ip: '10.0.0.1', id: 'req-1', url: '/oauth/introspect', headers: authorization ? { authorization } : {} }) as unknown as FastifyRequest;
const basic = (raw: string) => `Basic ${Buffer.from(raw).toString('base64')}`;

async function failure(promise: Promise<unknown>): Promise<OAuthException> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OAuthException);
    return error as OAuthException;
  }
  throw new Error('expected an OAuthException');
}

describe('OAuthClientAuthenticator', () => {
  describe('authenticate', () => {
    it('answers undefined when no client credentials were sent, and ignores other Authorization schemes', async () => {
      const { authenticator, authenticate } = setup();
      expect(await authenticator.authenticate(request(), {})).toBeUndefined();
      expect(await authenticator.authenticate(request('Bearer abc'), {})).toBeUndefined();
      for (const body of [undefined, null, 'text', ['a']])
        expect(await authenticator.authenticate(request(), body as never)).toBeUndefined();
      expect(authenticate).not.toHaveBeenCalled();
    });

    it('accepts client_secret_basic with form-urlencoded id and secret (RFC 6749 §2.3.1)', async () => {
      const { authenticator, authenticate } = setup();
      expect(await authenticator.authenticate(request(basic(`${CLIENT.clientId}:${encodeURIComponent(SECRET)}`)), {})).toEqual(CLIENT);
      const spaced = setup();
      await spaced.authenticator.authenticate(request(basic('a+b%3Ac:p%2Bq+r')), {}).catch(() => undefined);
      expect(spaced.authenticate).toHaveBeenCalledWith('a b:c', 'p+q r');
      expect(authenticate).toHaveBeenCalledTimes(1);
      expect(
        await authenticator.authenticate(request(`basic  ${Buffer.from(`${CLIENT.clientId}:${SECRET}`).toString('base64')}`), {}),
      ).toEqual(CLIENT);
    });

    it('accepts client_secret_post', async () => {
      const { authenticator } = setup();
      expect(await authenticator.authenticate(request(), { client_id: CLIENT.clientId, client_secret: SECRET })).toEqual(CLIENT);
    });

    it('answers invalid_client 401 for wrong credentials, with the Basic challenge only for Basic, and counts the failure', async () => {
      const { authenticator, limiter } = setup();
      const viaBasic = await failure(authenticator.authenticate(request(basic(`${CLIENT.clientId}:wrong`)), {}));
      expect([viaBasic.error, viaBasic.status, viaBasic.headers]).toEqual([
        'invalid_client',
        401,
        { 'www-authenticate': 'Basic realm="tessera"' },
      ]);
      const viaPost = await failure(authenticator.authenticate(request(), { client_id: CLIENT.clientId, client_secret: 'wrong' }));
      expect([viaPost.error, viaPost.status, viaPost.headers]).toEqual(['invalid_client', 401, {}]);
      const noSecret = await failure(authenticator.authenticate(request(), { client_id: CLIENT.clientId }));
      expect(noSecret.error).toBe('invalid_client');
      expect(limiter.recordFailure).toHaveBeenCalledTimes(3);
      expect(limiter.assertAllowed).toHaveBeenCalledWith('10.0.0.1');
      expect(viaBasic.description).not.toContain('wrong');
    });

    it('answers invalid_client with the challenge for malformed Basic values', async () => {
      const { authenticator } = setup();
      for (const header of ['Basic', 'Basic !!!', basic('no-colon'), basic(':secret-only'), basic('%E0%A4%A:x')]) {
        const error = await failure(authenticator.authenticate(request(header), {}));
        expect([error.error, error.headers['www-authenticate']]).toEqual(['invalid_client', 'Basic realm="tessera"']);
      }
    });

    it('refuses two methods at once, a differing client_id, and a secret without an id, with invalid_request', async () => {
      const { authenticator } = setup();
      const header = basic(`${CLIENT.clientId}:${SECRET}`);
      expect((await failure(authenticator.authenticate(request(header), { client_secret: SECRET }))).error).toBe('invalid_request');
      expect((await failure(authenticator.authenticate(request(header), { client_id: 'tcl_other' }))).error).toBe('invalid_request');
      expect(await authenticator.authenticate(request(header), { client_id: CLIENT.clientId })).toEqual(CLIENT);
      expect((await failure(authenticator.authenticate(request(), { client_secret: SECRET }))).error).toBe('invalid_request');
    });
  });
});

describe('singleParam', () => {
  describe('client assertions (RFC 7521 §4.2)', () => {
    it('hands a JWT client_assertion to the secretless authenticator with the endpoint called, and answers its client', async () => {
      const { authenticator, secretless, authenticate } = setup();
      const body = { client_assertion_type: JWT_CLIENT_ASSERTION_TYPE, client_assertion: 'good.assertion.jwt', client_id: CLIENT.clientId };
      expect(await authenticator.authenticate(request(), body)).toBe(CLIENT);
      expect(secretless.authenticate).toHaveBeenCalledWith({
        assertion: 'good.assertion.jwt',
        clientId: CLIENT.clientId,
        endpoint: 'https://tessera.test/oauth/introspect',
        usage: 'client_assertion',
        requestId: 'req-1',
      });
      expect(authenticate).not.toHaveBeenCalled();
    });

    it('counts a refused assertion as a failed authentication', async () => {
      const { authenticator, limiter } = setup();
      const refused = await failure(
        authenticator.authenticate(request(), { client_assertion_type: JWT_CLIENT_ASSERTION_TYPE, client_assertion: 'bad.assertion.jwt' }),
      );
      expect(refused.error).toBe('invalid_client');
      expect(limiter.recordFailure).toHaveBeenCalledWith('10.0.0.1');
    });

    it('refuses an assertion together with a secret or Basic, a missing or unknown assertion type, and a type without assertion', async () => {
      const { authenticator } = setup();
      const assertion = { client_assertion_type: JWT_CLIENT_ASSERTION_TYPE, client_assertion: 'good.assertion.jwt' };
      expect((await failure(authenticator.authenticate(request(), { ...assertion, client_secret: SECRET }))).error).toBe('invalid_request');
      expect((await failure(authenticator.authenticate(request(basic(`${CLIENT.clientId}:${SECRET}`)), assertion))).error).toBe(
        'invalid_request',
      );
      expect((await failure(authenticator.authenticate(request(), { client_assertion: 'good.assertion.jwt' }))).error).toBe(
        'invalid_request',
      );
      expect((await failure(authenticator.authenticate(request(), { ...assertion, client_assertion_type: 'urn:x' }))).error).toBe(
        'invalid_request',
      );
      expect((await failure(authenticator.authenticate(request(), { client_assertion_type: JWT_CLIENT_ASSERTION_TYPE }))).error).toBe(
        'invalid_request',
      );
    });
  });

  it('reads single strings, treats empty as absent, and refuses repeats and non-strings', () => {
    expect(singleParam({ a: 'x' }, 'a')).toBe('x');
    expect(singleParam({ a: '' }, 'a')).toBeUndefined();
    expect(singleParam({}, 'a')).toBeUndefined();
    expect(singleParam(Object.create({ a: 'inherited' }), 'a')).toBeUndefined();
    expect(() => singleParam({ a: ['x', 'y'] }, 'a')).toThrow('a was sent more than once');
    expect(() => singleParam({ a: 5 }, 'a')).toThrow('a must be a string');
  });
});
