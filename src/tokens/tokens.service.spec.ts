import { ClientsService } from '../clients/clients.service';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { AppConfig } from '../config/app-config';
import { DpopService } from '../dpop/dpop.service';
import { RefreshTokensService } from '../refresh/refresh-tokens.service';
import { TenantsService } from '../tenants/tenants.service';
import { AccessTokenService } from './access-token.service';
import { TokensService } from './tokens.service';

const TENANT = '11111111-1111-4111-8111-111111111111';

function setup(settings: Partial<{ isDisabled: boolean; accessTokenMaxTtl: number }> = {}) {
  const tenants = {
    settings: jest
      .fn()
      .mockResolvedValue({ id: TENANT, isDisabled: false, accessTokenMaxTtl: 600, registeredTokenMaxTtl: 600, ...settings }),
  };
  const clients = { findForTenant: jest.fn().mockResolvedValue(undefined) };
  const mint = jest.fn(async (input: { ttlSeconds: number }) => ({ accessToken: 'a.b.c', expiresIn: input.ttlSeconds, jti: 'j', exp: 1 }));
  const issue = jest.fn().mockResolvedValue({ refreshToken: 'trt_x', expiresIn: 1209600 });
  const config = { accessTokenTtlSeconds: 900, defaultAudience: 'https://default.aud' } as AppConfig;
  const service = new TokensService(
    tenants as unknown as TenantsService,
    clients as unknown as ClientsService,
    { mint } as unknown as AccessTokenService,
    { issue } as unknown as RefreshTokensService,
    config,
    {} as DpopService,
  );
  return { service, tenants, clients, mint, issue };
}

async function refusal(promise: Promise<unknown>): Promise<AppException> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppException);
    return error as AppException;
  }
  throw new Error('expected an AppException');
}

describe('TokensService', () => {
  describe('issue', () => {
    it('mints with the defaults and issues a refresh token with the same context', async () => {
      const { service, mint, issue } = setup({ accessTokenMaxTtl: 300 });
      const res = await service.issue(TENANT, { sub: 'u' });
      const context = {
        tenantId: TENANT,
        sub: 'u',
        clientId: null,
        scope: '',
        audience: ['https://default.aud'],
        claims: null,
        accessTokenTtl: 300,
      };
      expect(mint).toHaveBeenCalledWith({ ...context, ttlSeconds: 300 });
      expect(issue).toHaveBeenCalledWith(context);
      expect(res).toEqual({
        access_token: 'a.b.c',
        token_type: 'Bearer',
        expires_in: 300,
        refresh_token: 'trt_x',
        refresh_expires_in: 1209600,
        scope: '',
      });
    });

    it('issues no refresh token when refreshToken is false, and dedupes audiences', async () => {
      const { service, mint, issue } = setup();
      const res = await service.issue(TENANT, { sub: 'u', refreshToken: false, audience: ['a', 'b', 'a'], accessTokenTtl: 600 });
      expect(issue).not.toHaveBeenCalled();
      expect(res.refresh_token).toBeUndefined();
      expect(mint).toHaveBeenCalledWith(expect.objectContaining({ audience: ['a', 'b'], ttlSeconds: 600 }));
    });

    it('refuses a TTL over the tenant maximum, reserved claims, malformed scope, with 400', async () => {
      const { service, mint } = setup({ accessTokenMaxTtl: 120 });
      expect((await refusal(service.issue(TENANT, { sub: 'u', accessTokenTtl: 121 }))).message).toContain('between 10 and 120');
      expect((await refusal(service.issue(TENANT, { sub: 'u', claims: { jti: 'x' } }))).message).toContain('"jti"');
      expect((await refusal(service.issue(TENANT, { sub: 'u', scope: 'a\\b' }))).code).toBe(ErrorCode.VALIDATION_FAILED);
      expect(mint).not.toHaveBeenCalled();
    });

    it('refuses a disabled tenant with TENANT_FORBIDDEN', async () => {
      const { service } = setup({ isDisabled: true });
      expect((await refusal(service.issue(TENANT, { sub: 'u' }))).code).toBe(ErrorCode.TENANT_FORBIDDEN);
    });

    it('requires a live client of the tenant and a scope within its scopes', async () => {
      const { service, clients, mint } = setup();
      expect((await refusal(service.issue(TENANT, { sub: 'u', clientId: 'tcl_x' }))).message).toContain('clientId');
      clients.findForTenant.mockResolvedValue({ clientId: 'tcl_x', tenantId: TENANT, scopes: ['a', 'b'] });
      expect((await refusal(service.issue(TENANT, { sub: 'u', clientId: 'tcl_x', scope: 'a c' }))).message).toContain('"c"');
      await service.issue(TENANT, { sub: 'u', clientId: 'tcl_x', scope: 'b a' });
      expect(mint).toHaveBeenCalledWith(expect.objectContaining({ clientId: 'tcl_x', scope: 'b a' }));
      expect(clients.findForTenant).toHaveBeenCalledWith(TENANT, 'tcl_x');
    });
  });
});
