import type { FastifyRequest } from 'fastify';
import { TokenError } from '@tessera/nest-guard';
import { OAuthException } from '../common/errors/oauth.exception';
import { TokenVerifierService } from '../verification/token-verifier.service';
import { TenantCallerAuthenticator } from './tenant-caller-authentication';
import { TokenIntrospectionService } from './token-introspection.service';

const TENANT = '11111111-1111-4111-8111-111111111111';

describe('TokenIntrospectionService', () => {
  let verify: jest.Mock;
  let service: TokenIntrospectionService;
  const request = {} as FastifyRequest;

  beforeEach(() => {
    verify = jest.fn();
    const callers = {
      authenticate: jest.fn(async () => ({ tenantId: TENANT, actor: 'api-key:1' })),
    } as unknown as TenantCallerAuthenticator;
    service = new TokenIntrospectionService(callers, { verify } as unknown as TokenVerifierService);
  });

  describe('handle', () => {
    it('passes extra claims through but never lets one override an answer member', async () => {
      verify.mockResolvedValue({
        kind: 'registered',
        tenantId: TENANT,
        kid: 'k',
        claims: { sub: 'u', iat: 1, exp: 2, tenant_id: TENANT, active: false, token_type: 'refresh', username: 'root', groupRef: 'g' },
      });
      await expect(service.handle(request, { token: 'a.b.c' })).resolves.toEqual({
        active: true,
        sub: 'u',
        iat: 1,
        exp: 2,
        tenant_id: TENANT,
        token_type: 'Bearer',
        groupRef: 'g',
      });
    });

    it('answers exactly {active: false} for another tenant’s token, a refused token and an opaque token', async () => {
      verify.mockResolvedValueOnce({ kind: 'access', tenantId: '22222222-2222-4222-8222-222222222222', kid: 'k', claims: { sub: 'u' } });
      await expect(service.handle(request, { token: 'a.b.c' })).resolves.toEqual({ active: false });
      verify.mockRejectedValueOnce(new TokenError('TOKEN_EXPIRED'));
      await expect(service.handle(request, { token: 'a.b.c' })).resolves.toEqual({ active: false });
      await expect(service.handle(request, { token: `trt_${'A'.repeat(43)}` })).resolves.toEqual({ active: false });
      expect(verify).toHaveBeenCalledTimes(2);
    });

    it('lets a database failure through instead of answering inactive', async () => {
      verify.mockRejectedValue(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      await expect(service.handle(request, { token: 'a.b.c' })).rejects.toThrow('ECONNREFUSED');
    });

    it('refuses a missing token, a repeated token and a body that is not an object with invalid_request', async () => {
      for (const body of [{}, { token: ['a', 'b'] }, { token: 7 }, 'token=a', [1]]) {
        await expect(service.handle(request, body)).rejects.toMatchObject({ error: 'invalid_request' });
      }
      await expect(service.handle(request, {})).rejects.toBeInstanceOf(OAuthException);
    });
  });
});
