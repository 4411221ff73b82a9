import { startTestApp, TestApp } from './utils/test-app';
import { createTenant, issueToken, TestTenant } from './utils/verification-fixtures';

/**
 * Adversarial pass (after issues 11 and 17): Tessera's signing keys are public (/.well-known/jwks.json), and a tenant
 * could register one as its own (unproven: nobody else proves it, since only Tessera holds the private half). The
 * tenant's JWKS then republished Tessera's key, and once the key retired (an emergency rotation after a leak), a token
 * shaped as a registered token and signed with the leaked key would fall through to the registered-key path and verify
 * as that tenant's. The first case fails without the fix; the second guards the retired key (Tessera's own tokens
 * signed by it were refused either way: their iss is not the tenant).
 */
describe('adversarial: a tenant cannot register Tessera’s own signing keys (e2e)', () => {
  let t: TestApp;
  let tenant: TestTenant;

  const tesseraKeys = async () => (await t.http.get('/.well-known/jwks.json').expect(200)).body.keys as Array<Record<string, string>>;
  const register = ({ kid: _kid, alg, use: _use, ...jwk }: Record<string, string>) =>
    t.http.post(`/v1/tenants/${tenant.id}/jwt-keys`).set(tenant.apiKey).send({ label: 'not mine', algorithm: alg, jwk });

  beforeAll(async () => {
    t = await startTestApp();
    tenant = await createTenant(t, 'adv-regkeys');
  });
  afterAll(() => t.close());

  it('refuses the active signing key (409), and its JWKS never lists it', async () => {
    const [active] = await tesseraKeys();
    const res = await register(active);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('CONFLICT');
    const published = (await t.http.get(`/v1/tenants/${tenant.id}/jwks.json`).expect(200)).body.keys as Array<{ kid: string }>;
    expect(published.map((k) => k.kid)).not.toContain(active.kid);
  });

  it('refuses a retired signing key too, so a token it signed never verifies again', async () => {
    const [old] = await tesseraKeys();
    const { access_token: token } = await issueToken(t, tenant);
    await t.http.post('/v1/signing-keys/rotate?immediate=true').set('x-api-key', t.adminKey).expect(201);
    expect((await register(old)).status).toBe(409);
    const res = await t.http
      .get('/v1/auth/verify')
      .set({ authorization: `Bearer ${token}`, 'x-original-method': 'GET', 'x-original-uri': '/x' });
    expect(res.status).toBe(401);
  });
});
