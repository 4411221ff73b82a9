import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp } from './utils/test-app';
import { createTenant, registerKey, TestRegisteredKey, TestTenant } from './utils/verification-fixtures';

const PUBLIC_URL = 'https://tessera.test';
const TOKEN_ENDPOINT = `${PUBLIC_URL}/oauth/token`;
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

const payloadOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, number | string>;

/**
 * Issue 17.1: a bearer token and a jwt-bearer assertion are not interchangeable (docs/adr/0014).
 * A holder of a tenant's bearer token (an end user, a downstream service) must not be able to
 * exchange it for a wider or longer Tessera token, and an assertion must not pass as a bearer.
 */
describe('jwt-bearer assertions versus bearer tokens (e2e)', () => {
  async function boundary(t: TestApp, tenant: TestTenant, key: TestRegisteredKey) {
    const now = () => Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>) =>
      key.sign({ sub: 'user-1', jti: randomUUID(), iat: now(), exp: now() + 300, ...claims });
    const exchange = (assertion: string, extra: Record<string, string> = {}) =>
      t.http
        .post('/oauth/token')
        .type('form')
        .send({ grant_type: JWT_BEARER, assertion, ...extra });
    const forwardAuth = (token: string) => t.http.get('/v1/auth/verify').set('authorization', `Bearer ${token}`);
    const introspect = async (token: string) =>
      (await t.http.post('/oauth/introspect').set(tenant.apiKey).send({ token }).expect(200)).body.active as boolean;
    return { now, sign, exchange, forwardAuth, introspect };
  }

  describe('with the default audiences (VERIFY_AUDIENCES = DEFAULT_AUDIENCE = PUBLIC_URL)', () => {
    let t: TestApp;
    let tenant: TestTenant;
    let key: TestRegisteredKey;
    let b: Awaited<ReturnType<typeof boundary>>;

    beforeAll(async () => {
      t = await startTestApp({ env: { PUBLIC_URL, ACCESS_TOKEN_TTL: '600' } });
      tenant = await createTenant(t, 'boundary', { accessTokenMaxTtl: 3600 });
      key = await registerKey(t, tenant);
      b = await boundary(t, tenant, key);
    });
    afterAll(() => t.close());

    it('refuses a bearer token (aud = the issuer, a jti, no scope) as an assertion, while it still works as a bearer', async () => {
      const bearer = b.sign({ aud: PUBLIC_URL });
      await b.forwardAuth(bearer).expect(200);
      expect(await b.introspect(bearer)).toBe(true);
      for (const extra of [{}, { scope: 'admin anything' }] as Record<string, string>[]) {
        const res = await b.exchange(bearer, extra);
        expect({ status: res.status, body: res.body }).toEqual({
          status: 400,
          body: { error: 'invalid_grant', error_description: expect.stringContaining('aud') },
        });
      }
    });

    it('refuses an assertion (aud naming the token endpoint) as a bearer token at forward-auth and introspection', async () => {
      for (const aud of [TOKEN_ENDPOINT, [TOKEN_ENDPOINT, PUBLIC_URL]]) {
        const assertion = b.sign({ aud });
        const res = await b.forwardAuth(assertion).expect(401);
        expect(res.body).toMatchObject({ code: 'INVALID_AUDIENCE' });
        expect(await b.introspect(assertion)).toBe(false);
        // …and it is still a good assertion: one way only.
        await b.exchange(assertion).expect(200);
      }
    });

    it('never widens scope: an assertion without a scope claim and no client grants none, and asking for one is invalid_scope', async () => {
      const refused = await b.exchange(b.sign({ aud: TOKEN_ENDPOINT }), { scope: 'admin anything' }).expect(400);
      expect(refused.body).toEqual({ error: 'invalid_scope', error_description: expect.any(String) });
      const none = await b.exchange(b.sign({ aud: TOKEN_ENDPOINT })).expect(200);
      expect(none.body.scope).toBe('');
      expect(payloadOf(none.body.access_token).scope).toBe('');
      // Within the assertion's own scope claim only.
      await b.exchange(b.sign({ aud: TOKEN_ENDPOINT, scope: 'orders:read' }), { scope: 'orders:read admin' }).expect(400);
      const narrowed = await b
        .exchange(b.sign({ aud: TOKEN_ENDPOINT, scope: 'orders:read orders:write' }), { scope: 'orders:read' })
        .expect(200);
      expect(narrowed.body.scope).toBe('orders:read');
    });

    it('issues a token that never outlives the assertion', async () => {
      const exp = b.now() + 45;
      const res = await b.exchange(b.sign({ aud: TOKEN_ENDPOINT, exp })).expect(200);
      expect(res.body.expires_in).toBeLessThanOrEqual(45);
      expect(res.body.expires_in).toBeGreaterThan(0);
      expect(payloadOf(res.body.access_token).exp).toBeLessThanOrEqual(exp);
      // A long-lived ACCESS_TOKEN_TTL and tenant maximum do not lift the 600 s bound either.
      const full = await b.exchange(b.sign({ aud: TOKEN_ENDPOINT, iat: b.now(), exp: b.now() + 600 })).expect(200);
      expect(full.body.expires_in).toBeLessThanOrEqual(600);
    });
  });

  describe('with an API audience (VERIFY_AUDIENCES = DEFAULT_AUDIENCE = api://orders)', () => {
    let t: TestApp;
    let b: Awaited<ReturnType<typeof boundary>>;

    beforeAll(async () => {
      t = await startTestApp({ env: { PUBLIC_URL, DEFAULT_AUDIENCE: 'api://orders', VERIFY_AUDIENCES: 'api://orders' } });
      const tenant = await createTenant(t, 'boundary-api');
      b = await boundary(t, tenant, await registerKey(t, tenant));
    });
    afterAll(() => t.close());

    it('accepts the issuer as an assertion audience, and then never a token naming it as a bearer', async () => {
      await b.exchange(b.sign({ aud: PUBLIC_URL })).expect(200);
      const both = b.sign({ aud: [PUBLIC_URL, 'api://orders'] });
      expect((await b.forwardAuth(both).expect(401)).body).toMatchObject({ code: 'INVALID_AUDIENCE' });
      expect(await b.introspect(both)).toBe(false);
      await b.forwardAuth(b.sign({ aud: 'api://orders' })).expect(200);
      // A bearer token for the API is no assertion.
      await b.exchange(b.sign({ aud: 'api://orders' })).expect(400);
    });
  });
});
