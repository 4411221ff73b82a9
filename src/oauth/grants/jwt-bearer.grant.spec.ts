import { TokenError } from '@tessera/nest-guard';
import { Clock } from '../../common/clock';
import { OAuthException } from '../../common/errors/oauth.exception';
import { AppConfig } from '../../config/app-config';
import { TenantsService } from '../../tenants/tenants.service';
import { AccessTokenService } from '../../tokens/access-token.service';
import { SecretlessAuthenticator } from '../../trusted-issuers/secretless-authenticator.service';
import { TokenVerifierService } from '../../verification/token-verifier.service';
import { JwtBearerJtiRepository } from './jwt-bearer-jti.repository';
import { JwtBearerGrant } from './jwt-bearer.grant';

const NOW = new Date('2030-01-01T00:00:00Z');
const EXP = NOW.getTime() / 1000 + 60;

function setup(claims: Record<string, unknown> = {}) {
  const verifyAssertion = jest
    .fn()
    .mockResolvedValue({ kind: 'registered', tenantId: 't1', kid: 'k1', claims: { sub: 'u', jti: 'j1', exp: EXP, ...claims } });
  const consume = jest.fn().mockResolvedValue(true);
  const mint = jest.fn(async (input: { ttlSeconds: number }) => ({ accessToken: 'a.b.c', expiresIn: input.ttlSeconds, jti: 'x', exp: 1 }));
  const settings = jest.fn().mockResolvedValue({ id: 't1', isDisabled: false, accessTokenMaxTtl: 120, registeredTokenMaxTtl: 600 });
  const clock = Object.assign(new Clock(), { now: () => NOW });
  const config = { accessTokenTtlSeconds: 600, defaultAudience: 'https://aud', clockToleranceSeconds: 30 } as AppConfig;
  const grant = new JwtBearerGrant(
    { verifyAssertion } as unknown as TokenVerifierService,
    { consume } as unknown as JwtBearerJtiRepository,
    { mint } as unknown as AccessTokenService,
    { settings } as unknown as TenantsService,
    clock,
    config,
    { namesTrustedIssuer: jest.fn().mockResolvedValue(false) } as unknown as SecretlessAuthenticator,
  );
  return { grant, verifyAssertion, consume, mint, settings };
}

async function oauthError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OAuthException);
    return (error as OAuthException).error;
  }
  throw new Error('expected an OAuthException');
}

const client = (scopes: string[], tenantId = 't1') => ({ clientId: 'tcl_c', tenantId, scopes });

describe('JwtBearerGrant', () => {
  describe('handle', () => {
    it('consumes the jti until exp plus the clock tolerance, and mints for the assertion’s sub in the key’s tenant', async () => {
      const { grant, consume, mint } = setup();
      const res = await grant.handle({ params: { assertion: 'jwt' }, client: undefined });
      expect(consume).toHaveBeenCalledWith('t1', 'j1', 'k1', new Date((EXP + 30) * 1000), NOW);
      // The assertion has 60 s left: the token never outlives it (tenant maximum 120, ACCESS_TOKEN_TTL 600).
      expect(mint).toHaveBeenCalledWith({ tenantId: 't1', sub: 'u', clientId: null, scope: '', audience: ['https://aud'], ttlSeconds: 60 });
      expect(res).toEqual({ access_token: 'a.b.c', token_type: 'Bearer', expires_in: 60, scope: '' });
    });

    it('caps the lifetime at the tenant maximum and refuses an assertion with under a second left', async () => {
      const long = setup({ exp: EXP + 500 });
      await long.grant.handle({ params: { assertion: 'jwt' }, client: undefined });
      expect(long.mint).toHaveBeenCalledWith(expect.objectContaining({ ttlSeconds: 120 }));
      const dying = setup({ exp: NOW.getTime() / 1000 + 0.5 });
      expect(await oauthError(dying.grant.handle({ params: { assertion: 'jwt' }, client: undefined }))).toBe('invalid_grant');
      expect(dying.consume).not.toHaveBeenCalled();
    });

    it('answers invalid_grant for a refused assertion, a replay, and another tenant’s client', async () => {
      const refused = setup();
      refused.verifyAssertion.mockRejectedValue(new TokenError('TOKEN_EXPIRED', 'Token expired'));
      expect(await oauthError(refused.grant.handle({ params: { assertion: 'jwt' }, client: undefined }))).toBe('invalid_grant');
      expect(refused.consume).not.toHaveBeenCalled();

      const replay = setup();
      replay.consume.mockResolvedValue(false);
      expect(await oauthError(replay.grant.handle({ params: { assertion: 'jwt' }, client: undefined }))).toBe('invalid_grant');
      expect(replay.mint).not.toHaveBeenCalled();

      const foreign = setup();
      expect(await oauthError(foreign.grant.handle({ params: { assertion: 'jwt' }, client: client(['a'], 't2') }))).toBe('invalid_grant');
      expect(foreign.consume).not.toHaveBeenCalled();
    });

    it('answers invalid_request without an assertion', async () => {
      expect(await oauthError(setup().grant.handle({ params: {}, client: undefined }))).toBe('invalid_request');
    });

    it.each([
      // [assertion scope claim, scope param, client scopes, granted or error]
      [undefined, undefined, undefined, ''],
      // Neither the assertion nor a client allows a scope: none is granted, and asking is invalid_scope.
      [undefined, 'x y', undefined, 'invalid_scope'],
      ['a b', undefined, undefined, 'a b'],
      ['a b', 'a', undefined, 'a'],
      ['a b', 'c', undefined, 'invalid_scope'],
      ['a b', undefined, ['a'], 'a'],
      [undefined, undefined, ['a'], ''],
      [undefined, 'a', ['a'], 'a'],
      [undefined, 'b', ['a'], 'invalid_scope'],
      ['a b', 'b', ['a'], 'invalid_scope'],
      [42, undefined, undefined, 'invalid_grant'],
    ])('scope claim %p, scope param %p, client scopes %p → %p', async (claim, param, clientScopes, expected) => {
      const { grant, consume } = setup(claim === undefined ? {} : { scope: claim });
      const request = {
        params: { assertion: 'jwt', scope: param as string | undefined },
        client: clientScopes ? client(clientScopes) : undefined,
      };
      if (['invalid_scope', 'invalid_grant'].includes(expected as string)) {
        expect(await oauthError(grant.handle(request))).toBe(expected);
        // A refused scope does not use the assertion up.
        expect(consume).not.toHaveBeenCalled();
      } else {
        expect((await grant.handle(request)).scope).toBe(expected);
      }
    });
  });
});
