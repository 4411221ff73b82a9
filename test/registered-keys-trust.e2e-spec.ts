import { startTestApp, TestApp } from './utils/test-app';
import { ampersandClaims, createTenant, issueToken, registerKey, TestRegisteredKey, TestTenant } from './utils/verification-fixtures';

/**
 * Issue 17 "Worth a decision" (docs/adr/0013-registered-token-trust.md):
 * - a registered token's `client_id`, when it names a Tessera client (`tcl_…`), must be one of
 *   the key's tenant's live clients: another tenant's client id is refused everywhere the token
 *   is verified (forward-auth, introspection, the jwt-bearer grant);
 * - a client revokes only tokens issued to it (RFC 7009 §2.1); the tenant's X-Api-Key revokes any.
 */
const PUBLIC_URL = 'https://tessera.test';

describe('what registered tokens may claim, and who may revoke what (e2e)', () => {
  let t: TestApp;
  let a: TestTenant;
  let b: TestTenant;
  let keyB: TestRegisteredKey;
  let clientA: { clientId: string; clientSecret: string };
  let clientB: { clientId: string; clientSecret: string };
  let clientB2: { clientId: string; clientSecret: string };

  const createClient = async (tenant: TestTenant, name: string) => {
    const res = await t.http
      .post(`/v1/tenants/${tenant.id}/clients`)
      .set(tenant.apiKey)
      .send({ name, scopes: ['orders:read'] })
      .expect(201);
    return { clientId: res.body.clientId as string, clientSecret: res.body.clientSecret as string };
  };
  const basic = (c: { clientId: string; clientSecret: string }) => ({
    authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`,
  });
  const introspect = async (token: string, headers: Record<string, string> = b.apiKey) =>
    (await t.http.post('/oauth/introspect').set(headers).send({ token }).expect(200)).body;
  const forwardAuth = (token: string) =>
    t.http.get('/v1/auth/verify').set({ authorization: `Bearer ${token}`, 'x-original-method': 'GET', 'x-original-uri': '/orders' });

  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_URL } });
    a = await createTenant(t, 'trust-a');
    b = await createTenant(t, 'trust-b');
    keyB = await registerKey(t, b);
    clientA = await createClient(a, 'a-client');
    clientB = await createClient(b, 'b-client');
    clientB2 = await createClient(b, 'b-other-client');
  });
  afterAll(() => t.close());

  describe('client_id in a registered token', () => {
    it('refuses another tenant’s client id (in any letter case) at introspection and forward-auth: upstreams never see it as x-client-id', async () => {
      for (const clientId of [clientA.clientId, clientA.clientId.toUpperCase(), 'tcl_000000000000000000000000']) {
        const token = keyB.sign(ampersandClaims({ client_id: clientId }));
        expect(await introspect(token)).toEqual({ active: false });
        const res = await forwardAuth(token);
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({
          code: 'INVALID_ISSUER',
          message: "Token client_id names a Tessera client that is not one of the key's tenant's clients",
        });
        expect(res.headers['x-client-id']).toBeUndefined();
      }
    });

    it('accepts its own tenant’s client id and the tenant’s own non-Tessera names, and refuses a client_id that is not a string', async () => {
      expect(await introspect(keyB.sign(ampersandClaims({ client_id: clientB.clientId })))).toMatchObject({
        active: true,
        client_id: clientB.clientId,
        tenant_id: b.id,
      });
      expect(await introspect(keyB.sign(ampersandClaims({ client_id: 'orders-backend' })))).toMatchObject({
        active: true,
        client_id: 'orders-backend',
      });
      expect(await introspect(keyB.sign(ampersandClaims()))).toMatchObject({ active: true, tenant_id: b.id });
      for (const clientId of [[clientB.clientId, clientA.clientId], 42, '']) {
        expect(await introspect(keyB.sign(ampersandClaims({ client_id: clientId })))).toEqual({ active: false });
        expect((await forwardAuth(keyB.sign(ampersandClaims({ client_id: clientId })))).body.code).toBe('MALFORMED_TOKEN');
      }
    });

    it('refuses a jwt-bearer assertion naming another tenant’s client', async () => {
      const now = Math.floor(Date.now() / 1000);
      const assertion = keyB.sign({
        sub: 'user-7',
        iat: now,
        exp: now + 60,
        jti: `a-${now}`,
        aud: `${PUBLIC_URL}/oauth/token`,
        client_id: clientA.clientId,
      });
      const res = await t.http
        .post('/oauth/token')
        .type('form')
        .send({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_grant');
    });
  });

  describe('revocation by a client (RFC 7009 §2.1)', () => {
    it('lets a client revoke only tokens issued to it; another client of the tenant gets unauthorized_client and the token stays active', async () => {
      const mine = keyB.sign(ampersandClaims({ client_id: clientB.clientId, jti: `mine-${Date.now()}` }));
      const theirs = keyB.sign(ampersandClaims({ client_id: clientB2.clientId, jti: `theirs-${Date.now()}` }));
      const tenants = keyB.sign(ampersandClaims({ jti: `tenant-${Date.now()}` }));
      const issued = (await issueToken(t, b)).access_token; // no client: the tenant backend's

      for (const token of [theirs, tenants, issued]) {
        const res = await t.http.post('/oauth/revoke').set(basic(clientB)).send({ token }).expect(400);
        expect(res.body).toEqual({
          error: 'unauthorized_client',
          error_description: expect.stringMatching(/^A client may revoke only tokens issued to it/),
        });
        expect(await introspect(token)).toMatchObject({ active: true });
      }
      await t.http.post('/oauth/revoke').set(basic(clientB)).send({ token: mine }).expect(200);
      expect(await introspect(mine)).toEqual({ active: false });
      // The tenant's X-Api-Key revokes any token of the tenant.
      for (const token of [theirs, tenants, issued]) {
        await t.http.post('/oauth/revoke').set(b.apiKey).send({ token }).expect(200);
        expect(await introspect(token)).toEqual({ active: false });
      }
    });

    it('applies the same rule to refresh tokens', async () => {
      const { refresh_token } = await issueToken(t, b);
      const res = await t.http.post('/oauth/revoke').set(basic(clientB)).send({ token: refresh_token }).expect(400);
      expect(res.body.error).toBe('unauthorized_client');
      await t.http.post('/oauth/token').send({ grant_type: 'refresh_token', refresh_token }).expect(200);
    });

    it('still lets any client of the tenant introspect the tenant’s tokens (resource servers, RFC 7662)', async () => {
      const token = keyB.sign(ampersandClaims({ client_id: clientB2.clientId }));
      expect(await introspect(token, basic(clientB))).toMatchObject({ active: true, client_id: clientB2.clientId });
      expect(await introspect(token, basic(clientA))).toEqual({ active: false });
    });
  });
});
