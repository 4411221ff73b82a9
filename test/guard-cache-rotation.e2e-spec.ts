import { decodeProtectedHeader } from 'jose';
import { startTestApp, TestApp } from './utils/test-app';
import { createTenant, issueToken, TestTenant } from './utils/verification-fixtures';

/**
 * Issue 17.6: the guard's verified-token cache serves a hit only while the token's key is still
 * published NOW, for keyResolver issuers too. Tessera's own GET /v1/me is such a consumer (its
 * keyResolver reads KeysService); after an emergency rotation (?immediate=true) a token the guard
 * verified seconds earlier must stop passing at once, not when its cache entry expires (60 s).
 */
describe('GET /v1/me after an emergency rotation (e2e)', () => {
  let t: TestApp;
  let tenant: TestTenant;

  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_URL: 'https://tessera.test' } });
    tenant = await createTenant(t, 'guard-cache-rotation');
  });
  afterAll(() => t.close());

  const me = (token: string) => t.http.get('/v1/me').set('authorization', `Bearer ${token}`);

  it('refuses a cached token of the retired key right after ?immediate=true, and accepts the new key’s tokens', async () => {
    const { access_token: before } = await issueToken(t, tenant, { sub: 'cached-user' });
    await me(before).expect(200);
    await me(before).expect(200); // now answered from the verified-token cache

    const rotated = await t.http.post('/v1/signing-keys/rotate?immediate=true').set({ 'x-api-key': t.adminKey }).expect(201);
    expect(decodeProtectedHeader(before).kid).not.toBe(rotated.body.kid);

    const refused = await me(before);
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 401, code: 'UNKNOWN_KEY' });
    expect(refused.headers['www-authenticate']).toContain('error="invalid_token"');

    const { access_token: after } = await issueToken(t, tenant, { sub: 'fresh-user' });
    const res = await me(after).expect(200);
    expect(res.body).toMatchObject({ sub: 'fresh-user', tenant_id: tenant.id });
  });
});
