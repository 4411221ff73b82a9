import { TokenError } from '@tessera/nest-guard';
import { AppException } from '../common/errors/app.exception';
import { AppConfig } from '../config/app-config';
import { parseClaimHeaders, parseForwardAuthRules } from '../config/forward-auth/forward-auth-config';
import { parseForwardedSource } from '../config/forward-auth/forwarded-source';
import { DpopService } from '../dpop/dpop.service';
import { TokenVerifierService, VerifiedToken } from '../verification/token-verifier.service';
import { ForwardAuthService } from './forward-auth.service';

const TENANT = '11111111-1111-4111-8111-111111111111';

describe('ForwardAuthService', () => {
  // DPoP itself (proofs against the forwarded request) is tested end to end in test/dpop.e2e-spec.ts.
  let verify: jest.Mock;
  const service = (forwardAuth: Partial<AppConfig['forwardAuth']> = {}) =>
    new ForwardAuthService(
      { verify } as unknown as TokenVerifierService,
      {
        forwardAuth: {
          claimHeaders: parseClaimHeaders('sub:x-user-id,tenant_id:x-tenant-id,scope:x-scope,client_id:x-client-id'),
          rules: [],
          source: parseForwardedSource('traefik'),
          ...forwardAuth,
        },
      } as AppConfig,
      { algorithms: ['ES256'] } as unknown as DpopService,
    );
  const verified = (claims: Record<string, unknown>): VerifiedToken => ({
    kind: 'access',
    tenantId: TENANT,
    kid: 'k',
    claims: { tenant_id: TENANT, ...claims },
  });

  async function failure(
    promise: Promise<unknown>,
  ): Promise<{ status: number; code: string; headers: Record<string, string>; message: string }> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof AppException)
        return { status: error.getStatus(), code: error.code, headers: error.headers, message: error.message };
      throw error;
    }
    throw new Error('expected a refusal');
  }

  beforeEach(() => {
    verify = jest.fn(async () => verified({ sub: 'user-1', scope: 'orders:read profile', client_id: 'tcl_1' }));
  });

  describe('authorize', () => {
    it('answers the claim headers of a valid bearer token', async () => {
      await expect(service().authorize({ authorization: 'Bearer t.o.k' })).resolves.toEqual({
        'x-user-id': 'user-1',
        'x-tenant-id': TENANT,
        'x-scope': 'orders:read profile',
        'x-client-id': 'tcl_1',
      });
      expect(verify).toHaveBeenCalledWith('t.o.k');
    });

    it('reads the configured cookie only when there is no bearer token', async () => {
      await service({ cookieName: 'sid' }).authorize({ cookie: 'sid=c.o.k' });
      expect(verify).toHaveBeenLastCalledWith('c.o.k');
      await service({ cookieName: 'sid' }).authorize({ cookie: 'sid=c.o.k', authorization: 'Bearer b.e.a' });
      expect(verify).toHaveBeenLastCalledWith('b.e.a');
      expect(await failure(service().authorize({ cookie: 'sid=c.o.k' }))).toMatchObject({ code: 'MISSING_TOKEN' });
    });

    it('answers 401 MISSING_TOKEN with a bare Bearer challenge (RFC 6750 §3.1)', async () => {
      expect(await failure(service().authorize({ authorization: 'Basic eDp5' }))).toEqual({
        status: 401,
        code: 'MISSING_TOKEN',
        message: 'A bearer token is required',
        headers: { 'www-authenticate': 'Bearer realm="tessera"' },
      });
    });

    it('maps a refused token to its code with error="invalid_token"', async () => {
      verify.mockRejectedValue(new TokenError('TOKEN_EXPIRED', 'Token expired'));
      expect(await failure(service().authorize({ authorization: 'Bearer x' }))).toEqual({
        status: 401,
        code: 'TOKEN_EXPIRED',
        message: 'Token expired',
        headers: { 'www-authenticate': 'Bearer realm="tessera", error="invalid_token", error_description="Token expired"' },
      });
    });

    it('lets errors that are not about the token through (database down → 503 by the filter)', async () => {
      verify.mockRejectedValue(new Error('connect ECONNREFUSED'));
      await expect(service().authorize({ authorization: 'Bearer x' })).rejects.toThrow('ECONNREFUSED');
    });

    describe('with scope rules', () => {
      const rules = parseForwardAuthRules([
        { method: 'GET', path: '/orders/*', scopes: ['orders:read'] },
        { method: '*', path: '/orders/**', scopes: ['orders:write'] },
        { method: '*', path: '/public/**', scopes: [] },
      ]);
      const call = (extra: Record<string, string>) => service({ rules }).authorize({ authorization: 'Bearer x', ...extra });

      it('applies the first rule matching the forwarded method and normalised path', async () => {
        await expect(call({ 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/orders/1' })).resolves.toHaveProperty('x-user-id', 'user-1');
        await expect(call({ 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/public/x' })).resolves.toHaveProperty('x-user-id');
        const denied = await failure(call({ 'x-forwarded-method': 'POST', 'x-forwarded-uri': '/orders/1' }));
        expect(denied).toEqual({
          status: 403,
          code: 'INSUFFICIENT_SCOPE',
          message: 'Token lacks a required scope: orders:write',
          headers: {
            'www-authenticate':
              'Bearer realm="tessera", error="insufficient_scope", error_description="Token lacks a required scope: orders:write", scope="orders:write"',
          },
        });
        expect(await failure(call({ 'x-forwarded-method': 'DELETE', 'x-forwarded-uri': '/public/../orders/1' }))).toMatchObject({
          code: 'INSUFFICIENT_SCOPE',
        });
      });

      it('refuses a path that no rule names (only "scopes": [] opens a path)', async () => {
        expect(await failure(call({ 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/unlisted' }))).toEqual({
          status: 403,
          code: 'INSUFFICIENT_SCOPE',
          message: 'No forward-auth rule names this method and path; a rule with "scopes": [] opens a path',
          headers: {
            'www-authenticate':
              'Bearer realm="tessera", error="insufficient_scope", error_description="No forward-auth rule names this method and path; a rule with \'scopes\': [] opens a path"',
          },
        });
      });

      it('refuses a request without a forwarded method and URI, or with one it cannot read', async () => {
        expect(await failure(call({ 'x-forwarded-method': 'GET' }))).toMatchObject({
          status: 403,
          code: 'INSUFFICIENT_SCOPE',
          message: expect.stringMatching(/x-forwarded-uri/),
        });
        expect(await failure(call({ 'x-forwarded-uri': '/public/x' }))).toMatchObject({ status: 403, code: 'INSUFFICIENT_SCOPE' });
        expect(await failure(call({ 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/orders/%ZZ' }))).toMatchObject({ status: 403 });
      });

      it('refuses a conflicting second source with 400 before looking at the token', async () => {
        const conflict = await failure(
          call({ 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/orders/1', 'x-original-uri': '/public/x' }),
        );
        expect(conflict).toMatchObject({
          status: 400,
          code: 'FORWARDED_REQUEST_CONFLICT',
          message: expect.stringMatching(/^X-Original-Uri names another request/),
        });
        expect(verify).not.toHaveBeenCalled();
      });

      it('refuses a forwarded path over 4096 characters with 414, whatever the query', async () => {
        const long = `/public/${'a'.repeat(4096 - 8)}`;
        await expect(call({ 'x-forwarded-method': 'GET', 'x-forwarded-uri': `${long}?${'q'.repeat(5000)}` })).resolves.toHaveProperty(
          'x-user-id',
        );
        expect(await failure(call({ 'x-forwarded-method': 'GET', 'x-forwarded-uri': `${long}a` }))).toMatchObject({
          status: 414,
          code: 'FORWARDED_URI_TOO_LONG',
        });
      });

      it('matches a rule with four ** against a 2 KB+ hostile path at once', async () => {
        const hostile = parseForwardAuthRules([{ method: '*', path: '/**/x/**/x/**/x/**/y', scopes: ['deep'] }]);
        const at = (uri: string) =>
          service({ rules: hostile }).authorize({ authorization: 'Bearer x', 'x-forwarded-method': 'GET', 'x-forwarded-uri': uri });
        expect(await failure(at('/x'.repeat(1100)))).toMatchObject({
          code: 'INSUFFICIENT_SCOPE',
          message: expect.stringMatching(/^No forward-auth rule/),
        });
        expect(await failure(at(`${'/x'.repeat(1100)}/y`))).toMatchObject({
          code: 'INSUFFICIENT_SCOPE',
          message: 'Token lacks a required scope: deep',
        });
      }, 2000);

      it('treats a token without scope claim as holding no scope', async () => {
        verify.mockResolvedValue({ ...verified({ sub: 'u' }), kind: 'registered' });
        expect(await failure(call({ 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/orders/1' }))).toMatchObject({
          code: 'INSUFFICIENT_SCOPE',
        });
      });
    });
  });
});
