import { DataSource } from 'typeorm';
import { TokenError } from '@tessera/nest-guard';
import { Clock } from '../src/common/clock';
import { REGISTERED_KEY_CACHE_TTL_MS } from '../src/verification/registered-key-resolver';
import { TokenVerifierService } from '../src/verification/token-verifier.service';
import { waitFor } from './utils/process';
import { startTestApp, TestApp } from './utils/test-app';
import { signTestJwt } from './utils/test-jwt';
import { ampersandClaims, createTenant, issueToken, registerKey, TestRegisteredKey, TestTenant } from './utils/verification-fixtures';

const PUBLIC_URL = 'https://tessera.test';

describe('token verification against the real database, and GET /v1/me (e2e)', () => {
  let t: TestApp;
  let verifier: TokenVerifierService;
  let tenant: TestTenant;
  let key: TestRegisteredKey;

  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_URL } });
    verifier = t.tessera.app.get(TokenVerifierService);
    tenant = await createTenant(t, 'verification');
    key = await registerKey(t, tenant);
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => t.close());

  const moveClock = (ms: number) => {
    const at = new Date(Date.now() + ms);
    jest.spyOn(t.tessera.app.get(Clock), 'now').mockReturnValue(at);
  };

  async function codeOf(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
      return 'accepted';
    } catch (error) {
      if (error instanceof TokenError) return error.code;
      throw error;
    }
  }

  describe('TokenVerifierService.verify', () => {
    it('verifies an own access token from memory, with no database query', async () => {
      const { access_token } = await issueToken(t, tenant, { sub: 'user-1' });
      const driver = t.tessera.app.get(DataSource).driver as unknown as { obtainMasterConnection(): Promise<unknown> };
      const connections = jest.spyOn(driver, 'obtainMasterConnection');
      for (let i = 0; i < 50; i++) await verifier.verify(access_token);
      expect(connections).not.toHaveBeenCalled();
      // The probe works: a registered-key token with an uncached kid does reach the database.
      await verifier.verify(key.sign(ampersandClaims(), { kid: 'V'.repeat(43) })).catch(() => undefined);
      expect(connections).toHaveBeenCalled();
      await expect(verifier.verify(access_token)).resolves.toMatchObject({
        kind: 'access',
        tenantId: tenant.id,
        claims: { sub: 'user-1' },
      });
    });

    it('applies the tenant’s registeredTokenMaxTtl read from the database', async () => {
      const strict = await createTenant(t, 'verification-strict', { registeredTokenMaxTtl: 300 });
      const strictKey = await registerKey(t, strict);
      const now = Math.floor(Date.now() / 1000);
      await expect(verifier.verify(strictKey.sign(ampersandClaims({ iat: now, exp: now + 300 })))).resolves.toMatchObject({
        kind: 'registered',
        tenantId: strict.id,
      });
      expect(await codeOf(verifier.verify(strictKey.sign(ampersandClaims({ iat: now, exp: now + 301 }))))).toBe('MALFORMED_TOKEN');
    });

    it('stops a deactivated key’s tokens within the cache bound, and takes them back once reactivated', async () => {
      const switched = await registerKey(t, tenant, 'ES256');
      const token = switched.sign(ampersandClaims());
      await expect(verifier.verify(token)).resolves.toMatchObject({ kid: switched.kid });
      await t.http.patch(`/v1/tenants/${tenant.id}/jwt-keys/${switched.kid}`).set(tenant.apiKey).send({ active: false }).expect(200);
      moveClock(REGISTERED_KEY_CACHE_TTL_MS + 1);
      expect(await codeOf(verifier.verify(token))).toBe('UNKNOWN_KEY');
      await t.http.patch(`/v1/tenants/${tenant.id}/jwt-keys/${switched.kid}`).set(tenant.apiKey).send({ active: true }).expect(200);
      moveClock(2 * REGISTERED_KEY_CACHE_TTL_MS + 2);
      await expect(verifier.verify(token)).resolves.toMatchObject({ kid: switched.kid });
    });

    it('refuses the tokens of a deleted tenant', async () => {
      const doomed = await createTenant(t, 'verification-deleted');
      const doomedKey = await registerKey(t, doomed, 'EdDSA');
      const { access_token } = await issueToken(t, doomed);
      const registered = doomedKey.sign(ampersandClaims());
      await verifier.verify(access_token);
      await verifier.verify(registered);
      await t.http.delete(`/v1/tenants/${doomed.id}`).set({ 'x-api-key': t.adminKey }).expect(204);
      // The tenant block reaches the denylist through Postgres NOTIFY: within a second.
      await waitFor(
        async () => (await codeOf(verifier.verify(access_token))) !== 'accepted',
        1000,
        'the tenant block to reach the denylist',
      );
      expect(await codeOf(verifier.verify(access_token))).toBe('TOKEN_REVOKED');
      moveClock(REGISTERED_KEY_CACHE_TTL_MS + 1);
      expect(['TOKEN_REVOKED', 'UNKNOWN_KEY']).toContain(await codeOf(verifier.verify(registered)));
    });

    it('refuses a registered-key token with a kid of our own key (no key confusion between the two sets)', async () => {
      const { access_token } = await issueToken(t, tenant);
      const ownKid = JSON.parse(Buffer.from(access_token.split('.')[0], 'base64url').toString()).kid as string;
      const forged = signTestJwt(
        { alg: 'RS256', typ: 'at+jwt', kid: ownKid },
        { ...ampersandClaims(), iss: PUBLIC_URL, aud: PUBLIC_URL, tenant_id: tenant.id },
        key.privateKey,
      );
      expect(await codeOf(verifier.verify(forged))).toBe('INVALID_SIGNATURE');
    });
  });

  describe('TokenVerifierService.verifyAssertion', () => {
    it('keeps assertions and bearer tokens apart', async () => {
      const assertion = key.sign(ampersandClaims({ aud: `${PUBLIC_URL}/oauth/token`, jti: 'assert-1' }));
      await expect(verifier.verifyAssertion(assertion)).resolves.toMatchObject({
        kind: 'registered',
        tenantId: tenant.id,
        claims: { jti: 'assert-1' },
      });
      expect(await codeOf(verifier.verify(assertion))).toBe('INVALID_AUDIENCE');

      const bearer = key.sign(ampersandClaims());
      await verifier.verify(bearer);
      expect(await codeOf(verifier.verifyAssertion(bearer))).toBe('MALFORMED_TOKEN'); // no jti
      expect(await codeOf(verifier.verifyAssertion(key.sign(ampersandClaims({ jti: 'x' }))))).toBe('INVALID_AUDIENCE'); // no aud
      expect(await codeOf(verifier.verifyAssertion(key.sign(ampersandClaims({ jti: 'x', aud: PUBLIC_URL }), { typ: 'at+jwt' })))).toBe(
        'INVALID_TOKEN_TYPE',
      );
      const { access_token } = await issueToken(t, tenant, { audience: `${PUBLIC_URL}/oauth/token` });
      expect(await codeOf(verifier.verifyAssertion(access_token))).toBe('INVALID_TOKEN_TYPE');
    });
  });

  describe('GET /v1/me', () => {
    it('answers the claims of a valid Tessera access token', async () => {
      const { access_token } = await issueToken(t, tenant, { sub: 'user-9', scope: 'profile', claims: { plan: 'gold' } });
      const res = await t.http.get('/v1/me').set('authorization', `Bearer ${access_token}`).expect(200);
      expect(res.body).toMatchObject({
        iss: PUBLIC_URL,
        sub: 'user-9',
        scope: 'profile',
        tenant_id: tenant.id,
        plan: 'gold',
        aud: PUBLIC_URL,
      });
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('refuses missing, hostile, registered-key and revoked tokens with the design’s JSON and challenge', async () => {
      const missing = await t.http.get('/v1/me').expect(401);
      expect(missing.body).toMatchObject({ statusCode: 401, error: 'unauthorized', code: 'MISSING_TOKEN' });
      expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);

      const none = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: PUBLIC_URL, sub: 'x' })).toString('base64url')}.`;
      const res = await t.http.get('/v1/me').set('authorization', `Bearer ${none}`).expect(401);
      expect(res.body.code).toBe('ALGORITHM_NOT_ALLOWED');
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');

      // A tenant-registered token is not Tessera's: /v1/me is for Tessera's own access tokens.
      const registered = await t.http
        .get('/v1/me')
        .set('authorization', `Bearer ${key.sign(ampersandClaims())}`)
        .expect(401);
      expect(registered.body.code).toMatch(/INVALID_ISSUER|UNKNOWN_KEY|INVALID_TOKEN_TYPE/);

      const { access_token } = await issueToken(t, tenant);
      await t.http.get('/v1/me').set('authorization', `Bearer ${access_token}`).expect(200);
      await t.http.post('/oauth/revoke').set(tenant.apiKey).send({ token: access_token }).expect(200);
      const revoked = await t.http.get('/v1/me').set('authorization', `Bearer ${access_token}`).expect(401);
      expect(revoked.body.code).toBe('TOKEN_REVOKED');
    });

    it('accepts Tessera’s tokens whatever SIGNING_ALGORITHM signs them (EdDSA here)', async () => {
      const ed = await startTestApp({ env: { PUBLIC_URL, SIGNING_ALGORITHM: 'EdDSA' } });
      try {
        const edTenant = await createTenant(ed, 'verification-eddsa');
        const { access_token } = await issueToken(ed, edTenant, { sub: 'ed-user' });
        expect(JSON.parse(Buffer.from(access_token.split('.')[0], 'base64url').toString()).alg).toBe('EdDSA');
        const res = await ed.http.get('/v1/me').set('authorization', `Bearer ${access_token}`).expect(200);
        expect(res.body).toMatchObject({ sub: 'ed-user', tenant_id: edTenant.id });
      } finally {
        await ed.close();
      }
    });
  });
});
