import { Clock } from '../src/common/clock';
import { startTestApp, TestApp } from './utils/test-app';
import { ampersandClaims, createTenant, issueToken, registerKey, TestRegisteredKey, TestTenant } from './utils/verification-fixtures';

const PUBLIC_URL = 'https://tessera.test';
const form = (params: Record<string, string>) => new URLSearchParams(params).toString();

describe('OAuth introspection (RFC 7662) and revocation (RFC 7009) (e2e)', () => {
  let t: TestApp;
  let tenant: TestTenant;
  let other: TestTenant;
  let key: TestRegisteredKey;
  let client: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_URL, VERIFY_AUDIENCES: `${PUBLIC_URL},orders-api` } });
    tenant = await createTenant(t, 'introspection');
    other = await createTenant(t, 'introspection-other');
    key = await registerKey(t, tenant);
    const created = await t.http
      .post(`/v1/tenants/${tenant.id}/clients`)
      .set(tenant.apiKey)
      .send({ name: 'resource-server', scopes: ['orders:read'] })
      .expect(201);
    client = { clientId: created.body.clientId, clientSecret: created.body.clientSecret };
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => t.close());

  const introspect = (body: object, headers: Record<string, string> = tenant.apiKey) =>
    t.http.post('/oauth/introspect').set(headers).send(body);
  const revoke = (body: object, headers: Record<string, string> = tenant.apiKey) => t.http.post('/oauth/revoke').set(headers).send(body);
  const basic = () => ({
    authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`,
  });

  describe('POST /oauth/introspect', () => {
    it('answers an own access token as active with the RFC 7662 members, and no-store', async () => {
      const { access_token } = await issueToken(t, tenant, { sub: 'user-1', scope: 'orders:read', claims: { plan: 'gold' } });
      const res = await introspect({ token: access_token }).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        active: true,
        iss: PUBLIC_URL,
        sub: 'user-1',
        aud: PUBLIC_URL,
        exp: expect.any(Number),
        iat: expect.any(Number),
        nbf: expect.any(Number),
        jti: expect.any(String),
        scope: 'orders:read',
        client_id: tenant.id,
        tenant_id: tenant.id,
        token_type: 'Bearer',
        plan: 'gold',
      });
    });

    it('answers the Ampersand token as active with groupRef and consumerRef, for a form body with client_secret_basic', async () => {
      const token = key.sign(ampersandClaims());
      const res = await t.http
        .post('/oauth/introspect')
        .set(basic())
        .type('form')
        .send(form({ token, token_type_hint: 'access_token' }))
        .expect(200);
      expect(res.body).toEqual({
        active: true,
        sub: 'user-7',
        exp: expect.any(Number),
        iat: expect.any(Number),
        tenant_id: tenant.id,
        token_type: 'Bearer',
        groupRef: 'group-1',
        consumerRef: 'consumer-9',
      });
      // client_secret_post in JSON works too.
      await introspect({ token, client_id: client.clientId, client_secret: client.clientSecret }, {}).expect(200, res.body);
    });

    it('answers exactly {"active": false} for expired, foreign, malformed, unknown, wrong-audience and refresh tokens', async () => {
      const now = Math.floor(Date.now() / 1000);
      const own = await issueToken(t, tenant);
      const foreign = await issueToken(t, other);
      const foreignKey = await registerKey(t, other);
      const cases: Array<[string, string]> = [
        ['an expired registered token', key.sign(ampersandClaims({ iat: now - 700, exp: now - 100 }))],
        ['another tenant’s access token', foreign.access_token],
        ['another tenant’s registered token', foreignKey.sign(ampersandClaims())],
        ['a malformed token', 'not-a-token'],
        ['alg none', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"a"}').toString('base64url')}.`],
        ['an unknown kid', key.sign(ampersandClaims(), { kid: 'Q'.repeat(43) })],
        ['an audience not accepted', key.sign(ampersandClaims({ aud: 'billing-api' }))],
        ['a refresh token', own.refresh_token!],
        ['another tenant’s refresh token', foreign.refresh_token!],
        ['a token over 8 KB', key.sign(ampersandClaims({ pad: 'x'.repeat(9000) }))],
      ];
      for (const [name, token] of cases) {
        const res = await introspect({ token });
        expect({ name, status: res.status, body: res.body }).toEqual({ name, status: 200, body: { active: false } });
      }
      // The other tenant sees its own token as active.
      await introspect({ token: foreign.access_token }, other.apiKey)
        .expect(200)
        .expect((r) => expect(r.body.active).toBe(true));
    });

    it('accepts a custom audience listed in VERIFY_AUDIENCES', async () => {
      const { access_token } = await issueToken(t, tenant, { audience: ['orders-api'] });
      expect((await introspect({ token: access_token }).expect(200)).body).toMatchObject({ active: true, aud: 'orders-api' });
    });

    it('refuses callers without credentials, with wrong ones, or with the admin key: 401 invalid_client', async () => {
      const { access_token } = await issueToken(t, tenant);
      const none = await introspect({ token: access_token }, {}).expect(401);
      expect(none.body).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
      expect((await introspect({ token: access_token }, { 'x-api-key': 'tsk_wrong' }).expect(401)).body.error).toBe('invalid_client');
      expect((await introspect({ token: access_token }, { 'x-api-key': t.adminKey }).expect(401)).body.error).toBe('invalid_client');
      const wrongSecret = await introspect({ token: access_token, client_id: client.clientId, client_secret: 'nope' }, {}).expect(401);
      expect(wrongSecret.body.error).toBe('invalid_client');
      const both = await introspect({ token: access_token, client_id: client.clientId, client_secret: client.clientSecret }).expect(400);
      expect(both.body.error).toBe('invalid_request');
    });

    it('answers invalid_request without a token or with a token sent twice', async () => {
      expect((await introspect({}).expect(400)).body).toEqual({ error: 'invalid_request', error_description: 'token is required' });
      const twice = await t.http.post('/oauth/introspect').set(tenant.apiKey).type('form').send('token=a&token=b').expect(400);
      expect(twice.body.error).toBe('invalid_request');
    });

    it('follows the clock: a token past exp + tolerance turns inactive', async () => {
      const token = key.sign(ampersandClaims());
      await introspect({ token })
        .expect(200)
        .expect((r) => expect(r.body.active).toBe(true));
      jest.spyOn(t.tessera.app.get(Clock), 'now').mockReturnValue(new Date(Date.now() + 700_000));
      await introspect({ token }).expect(200, { active: false });
    });
  });

  describe('POST /oauth/revoke', () => {
    it('puts an access token’s jti on the denylist: inactive at introspection, TOKEN_REVOKED at forward-auth, audited', async () => {
      const { access_token } = await issueToken(t, tenant);
      const res = await revoke({ token: access_token, token_type_hint: 'access_token' }).expect(200);
      expect(res.text).toBe('');
      await introspect({ token: access_token }).expect(200, { active: false });
      const fa = await t.http.get('/v1/auth/verify').set('authorization', `Bearer ${access_token}`).expect(401);
      expect(fa.body.code).toBe('TOKEN_REVOKED');
      const jti = JSON.parse(Buffer.from(access_token.split('.')[1], 'base64url').toString()).jti;
      expect(await t.sql('SELECT tenant_id FROM revoked_jtis WHERE jti = $1', [jti])).toEqual([{ tenant_id: tenant.id }]);
      const audit = await t.sql<{ type: string; actor: string; details: string }>(
        "SELECT type, actor, details::text FROM audit_events WHERE type = 'access_token.revoked'",
      );
      expect(audit.some((row) => row.details.includes(jti) && row.actor.startsWith('api-key:'))).toBe(true);
      expect(JSON.stringify(audit)).not.toContain(access_token);
    });

    it('revokes a token whatever its audience, and a registered-key token with a jti', async () => {
      const { access_token } = await issueToken(t, tenant, { audience: 'billing-api' });
      await revoke({ token: access_token }).expect(200);
      const jti = JSON.parse(Buffer.from(access_token.split('.')[1], 'base64url').toString()).jti;
      expect(await t.sql('SELECT 1 FROM revoked_jtis WHERE jti = $1', [jti])).toHaveLength(1);

      // A client revokes only tokens issued to it (RFC 7009 §2.1, docs/adr/0013-registered-token-trust.md).
      const registered = key.sign(ampersandClaims({ jti: 'ampersand-1', client_id: client.clientId }));
      await revoke({ token: registered }, basic()).expect(200);
      await introspect({ token: registered }).expect(200, { active: false });
    });

    it('ends a refresh token’s family, with a form body and the hint wrong on purpose', async () => {
      const { refresh_token } = await issueToken(t, tenant);
      await t.http
        .post('/oauth/revoke')
        .set(tenant.apiKey)
        .type('form')
        .send(form({ token: refresh_token!, token_type_hint: 'access_token' }))
        .expect(200);
      const refreshed = await t.http
        .post('/oauth/token')
        .type('form')
        .send(form({ grant_type: 'refresh_token', refresh_token: refresh_token! }))
        .expect(400);
      expect(refreshed.body.error).toBe('invalid_grant');
    });

    it('answers 200 and changes nothing for unknown, malformed and other tenants’ tokens', async () => {
      const foreign = await issueToken(t, other);
      for (const token of ['unknown', 'a.b.c', `trt_${'A'.repeat(43)}`, foreign.access_token, foreign.refresh_token!]) {
        const res = await revoke({ token });
        expect({ token: token.slice(0, 12), status: res.status, text: res.text }).toEqual({
          token: token.slice(0, 12),
          status: 200,
          text: '',
        });
      }
      await introspect({ token: foreign.access_token }, other.apiKey)
        .expect(200)
        .expect((r) => expect(r.body.active).toBe(true));
      await t.http.post('/oauth/token').send({ grant_type: 'refresh_token', refresh_token: foreign.refresh_token }).expect(200);
    });

    it('requires the tenant’s credentials', async () => {
      const { access_token } = await issueToken(t, tenant);
      expect((await revoke({ token: access_token }, {}).expect(401)).body.error).toBe('invalid_client');
      expect((await revoke({ token: access_token }, { 'x-api-key': t.adminKey }).expect(401)).body.error).toBe('invalid_client');
      expect((await revoke({}).expect(400)).body).toEqual({ error: 'invalid_request', error_description: 'token is required' });
      await introspect({ token: access_token })
        .expect(200)
        .expect((r) => expect(r.body.active).toBe(true));
    });
  });

  it('lists both endpoints in the OpenAPI document', async () => {
    const doc = await t.http.get('/docs-json').expect(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/oauth/introspect', '/oauth/revoke']));
  });
});
