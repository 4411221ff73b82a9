import { generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import { createLocalJWKSet, JSONWebKeySet, jwtVerify, SignJWT } from 'jose';
import { Clock } from '../src/common/clock';
import { startTestApp, TestApp } from './utils/test-app';

const PUBLIC_URL = 'https://tessera.test';
const TOKEN_ENDPOINT = `${PUBLIC_URL}/oauth/token`;
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const oauthError = (error: string) => ({ error, error_description: expect.any(String) });

describe('OAuth token endpoint: POST /oauth/token (e2e)', () => {
  let t: TestApp;
  const admin = () => ({ 'x-api-key': t.adminKey });
  let tenant: { id: string; apiKey: { 'x-api-key': string } };
  let client: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_URL, ACCESS_TOKEN_TTL: '300', REFRESH_REUSE_GRACE_SECONDS: '5' } });
    tenant = await createTenant('oauth-main');
    client = (
      await t.http
        .post(`/v1/tenants/${tenant.id}/clients`)
        .set(admin())
        .send({ name: 'worker', scopes: ['orders:read', 'orders:write'] })
        .expect(201)
    ).body;
  });
  afterAll(() => t.close());

  async function createTenant(name: string, body: object = {}) {
    const res = await t.http
      .post('/v1/tenants')
      .set(admin())
      .send({ name, ...body })
      .expect(201);
    const key = await t.http.post(`/v1/tenants/${res.body.id}/api-keys`).set(admin()).send({}).expect(201);
    return { id: res.body.id as string, apiKey: { 'x-api-key': key.body.key as string } };
  }

  const form = (body: Record<string, string>, headers: Record<string, string> = {}) =>
    t.http.post('/oauth/token').set(headers).type('form').send(body);
  const json = (body: object, headers: Record<string, string> = {}) => t.http.post('/oauth/token').set(headers).send(body);

  async function verify(token: string) {
    const jwks = (await t.http.get('/.well-known/jwks.json').expect(200)).body as JSONWebKeySet;
    return jwtVerify(token, createLocalJWKSet(jwks), { issuer: PUBLIC_URL, audience: PUBLIC_URL, typ: 'at+jwt' });
  }

  describe('client_credentials', () => {
    it('issues a token with client_secret_basic over a form body: sub = client_id, all client scopes, no refresh token, no-store', async () => {
      const res = await form({ grant_type: 'client_credentials' }, { authorization: basic(client.clientId, client.clientSecret) }).expect(
        200,
      );
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['pragma']).toBe('no-cache');
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 300,
        scope: 'orders:read orders:write',
      });
      const { payload, protectedHeader } = await verify(res.body.access_token);
      expect(protectedHeader).toMatchObject({ typ: 'at+jwt', alg: 'RS256', kid: expect.any(String) });
      expect(payload).toEqual({
        iss: PUBLIC_URL,
        sub: client.clientId,
        aud: PUBLIC_URL,
        exp: payload.iat! + 300,
        iat: expect.any(Number),
        nbf: payload.iat,
        jti: expect.any(String),
        client_id: client.clientId,
        scope: 'orders:read orders:write',
        tenant_id: tenant.id,
      });
    });

    it('accepts client_secret_post, over form and JSON, and a narrower scope', async () => {
      const viaForm = await form({
        grant_type: 'client_credentials',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        scope: 'orders:read',
      }).expect(200);
      expect(viaForm.body.scope).toBe('orders:read');
      expect((await verify(viaForm.body.access_token)).payload.scope).toBe('orders:read');
      const viaJson = await json({
        grant_type: 'client_credentials',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        scope: 'orders:write',
      }).expect(200);
      expect(viaJson.body.scope).toBe('orders:write');
      const basicJson = await json(
        { grant_type: 'client_credentials' },
        { authorization: basic(client.clientId, client.clientSecret) },
      ).expect(200);
      expect(basicJson.body.scope).toBe('orders:read orders:write');
      // The same id in the body alongside Basic is tolerated; unknown parameters are ignored (RFC 6749 §3.2).
      await form(
        { grant_type: 'client_credentials', client_id: client.clientId, foo: 'bar' },
        { authorization: basic(client.clientId, client.clientSecret) },
      ).expect(200);
    });

    it('answers invalid_client 401 for a wrong or missing secret, with WWW-Authenticate: Basic only when Basic was used', async () => {
      const wrongBasic = await form(
        { grant_type: 'client_credentials' },
        { authorization: basic(client.clientId, `${client.clientSecret}x`) },
      ).expect(401);
      expect(wrongBasic.body).toEqual(oauthError('invalid_client'));
      expect(wrongBasic.headers['www-authenticate']).toBe('Basic realm="tessera"');
      expect(wrongBasic.headers['cache-control']).toBe('no-store');

      const wrongPost = await form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: 'nope' }).expect(401);
      expect(wrongPost.body).toEqual(oauthError('invalid_client'));
      expect(wrongPost.headers['www-authenticate']).toBeUndefined();

      await form({ grant_type: 'client_credentials', client_id: client.clientId }).expect(401);
      await form({
        grant_type: 'client_credentials',
        client_id: 'tcl_000000000000000000000000',
        client_secret: client.clientSecret,
      }).expect(401);
      const none = await form({ grant_type: 'client_credentials' }).expect(401);
      expect(none.body).toEqual(oauthError('invalid_client'));
      for (const header of [
        'Basic !!!',
        'Basic',
        `Basic ${Buffer.from('no-colon').toString('base64')}`,
        `Basic ${Buffer.from('%zz:x').toString('base64')}`,
      ]) {
        const res = await form({ grant_type: 'client_credentials' }, { authorization: header }).expect(401);
        expect(res.body).toEqual(oauthError('invalid_client'));
        expect(res.headers['www-authenticate']).toBe('Basic realm="tessera"');
      }
      expect(t.logs()).not.toContain(client.clientSecret);
    });

    it('refuses two authentication methods at once with invalid_request', async () => {
      const res = await form(
        { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret },
        { authorization: basic(client.clientId, client.clientSecret) },
      ).expect(400);
      expect(res.body).toEqual(oauthError('invalid_request'));
      const otherId = await form(
        { grant_type: 'client_credentials', client_id: 'tcl_000000000000000000000000' },
        { authorization: basic(client.clientId, client.clientSecret) },
      ).expect(400);
      expect(otherId.body).toEqual(oauthError('invalid_request'));
    });

    it('answers invalid_scope for a scope outside the client’s or a malformed one', async () => {
      const auth = { authorization: basic(client.clientId, client.clientSecret) };
      for (const scope of ['orders:delete', 'orders:read admin', 'a"b']) {
        const res = await form({ grant_type: 'client_credentials', scope }, auth).expect(400);
        expect(res.body).toEqual(oauthError('invalid_scope'));
      }
    });

    it('stops working when the client is deleted or its tenant disabled', async () => {
      const other = await createTenant('oauth-cc-lifecycle');
      const c = (await t.http.post(`/v1/tenants/${other.id}/clients`).set(admin()).send({ name: 'x', scopes: [] }).expect(201)).body;
      const auth = { authorization: basic(c.clientId, c.clientSecret) };
      expect((await form({ grant_type: 'client_credentials' }, auth).expect(200)).body.scope).toBe('');
      await t.http.patch(`/v1/tenants/${other.id}`).set(admin()).send({ disabled: true }).expect(200);
      await form({ grant_type: 'client_credentials' }, auth).expect(401);
      await t.http.patch(`/v1/tenants/${other.id}`).set(admin()).send({ disabled: false }).expect(200);
      await form({ grant_type: 'client_credentials' }, auth).expect(200);
      await t.http.delete(`/v1/tenants/${other.id}/clients/${c.clientId}`).set(admin()).expect(204);
      expect((await form({ grant_type: 'client_credentials' }, auth).expect(401)).body).toEqual(oauthError('invalid_client'));
    });
  });

  describe('request handling', () => {
    it('answers unsupported_grant_type for an unknown grant and invalid_request for a missing one', async () => {
      for (const grant_type of ['password', 'authorization_code', 'implicit']) {
        expect((await form({ grant_type }).expect(400)).body).toEqual(oauthError('unsupported_grant_type'));
      }
      expect((await form({}).expect(400)).body).toEqual(oauthError('invalid_request'));
      expect((await form({ grant_type: '' }).expect(400)).body).toEqual(oauthError('invalid_request'));
      expect((await json({}).expect(400)).body).toEqual(oauthError('invalid_request'));
      expect((await t.http.post('/oauth/token').expect(400)).body).toEqual(oauthError('invalid_request'));
    });

    it('answers malformed bodies with 400 invalid_request: bad JSON, non-object JSON, repeated or non-string parameters', async () => {
      const badJson = await t.http.post('/oauth/token').set('content-type', 'application/json').send('{"grant_type":').expect(400);
      expect(badJson.body).toEqual(oauthError('invalid_request'));
      for (const body of ['[1,2]', '"client_credentials"', '42']) {
        const res = await t.http.post('/oauth/token').set('content-type', 'application/json').send(body).expect(400);
        expect(res.body).toEqual(oauthError('invalid_request'));
      }
      const repeated = await t.http
        .post('/oauth/token')
        .type('form')
        .send('grant_type=client_credentials&grant_type=client_credentials')
        .expect(400);
      expect(repeated.body).toEqual({ error: 'invalid_request', error_description: 'grant_type was sent more than once' });
      const repeatedScope = await t.http
        .post('/oauth/token')
        .type('form')
        .set('authorization', basic(client.clientId, client.clientSecret))
        .send('grant_type=client_credentials&scope=orders:read&scope=orders:write')
        .expect(400);
      expect(repeatedScope.body).toEqual(oauthError('invalid_request'));
      expect((await json({ grant_type: ['client_credentials'] }).expect(400)).body).toEqual(oauthError('invalid_request'));
      expect((await json({ grant_type: 42 }).expect(400)).body).toEqual(oauthError('invalid_request'));
      expect((await json({ grant_type: 'client_credentials', client_id: { a: 1 } }).expect(400)).body).toEqual(
        oauthError('invalid_request'),
      );
      const proto = await t.http
        .post('/oauth/token')
        .set('content-type', 'application/json')
        .send('{"grant_type":"client_credentials","__proto__":{"x":1}}')
        .expect(400);
      expect(proto.body).toEqual(oauthError('invalid_request'));
    });

    it('answers 415 in the OAuth shape for other content types, and keeps form bodies off the admin API', async () => {
      const text = await t.http.post('/oauth/token').set('content-type', 'text/plain').send('grant_type=client_credentials').expect(415);
      expect(text.body).toEqual(oauthError('invalid_request'));
      const admin415 = await t.http.post('/v1/tenants').set(admin()).type('form').send('name=form-tenant').expect(415);
      expect(admin415.body).toEqual({
        statusCode: 415,
        error: 'unsupported_media_type',
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: expect.any(String),
      });
      expect(await t.sql("SELECT 1 FROM tenants WHERE name = 'form-tenant'")).toEqual([]);
      await t.http.post(`/v1/tenants/${tenant.id}/clients`).set(admin()).type('form').send('name=x&scopes=a').expect(415);
    });

    it('documents the endpoint in the OpenAPI document', async () => {
      const doc = (await t.http.get('/docs-json').expect(200)).body;
      const op = doc.paths['/oauth/token'].post;
      expect(Object.keys(op.requestBody.content).sort()).toEqual(['application/json', 'application/x-www-form-urlencoded']);
      expect(op.responses['200']).toBeDefined();
      expect(doc.paths['/v1/tenants/{tenantId}/tokens'].post.security).toEqual([{ 'api-key': [] }]);
      expect(doc.paths['/v1/tenants/{tenantId}/clients/{clientId}'].delete).toBeDefined();
    });
  });

  describe('refresh_token', () => {
    const issue = (body: object) => t.http.post(`/v1/tenants/${tenant.id}/tokens`).set(tenant.apiKey).send(body).expect(201);

    it('rotates over HTTP: a fresh access token and a new refresh token; the old one, reused after the grace window, ends the family', async () => {
      const first = (
        await issue({
          sub: 'user-1',
          scope: 'a b',
          audience: ['https://api.one', 'https://api.two'],
          claims: { plan: 'pro' },
          accessTokenTtl: 120,
        })
      ).body;
      const rotated = await form({ grant_type: 'refresh_token', refresh_token: first.refresh_token }).expect(200);
      expect(rotated.headers['cache-control']).toBe('no-store');
      expect(rotated.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 120,
        refresh_token: expect.any(String),
        refresh_expires_in: expect.any(Number),
        scope: 'a b',
      });
      expect(rotated.body.refresh_token).not.toBe(first.refresh_token);
      const jwks = (await t.http.get('/.well-known/jwks.json').expect(200)).body as JSONWebKeySet;
      const { payload } = await jwtVerify(rotated.body.access_token, createLocalJWKSet(jwks), {
        issuer: PUBLIC_URL,
        audience: 'https://api.two',
      });
      expect(payload).toMatchObject({
        sub: 'user-1',
        scope: 'a b',
        aud: ['https://api.one', 'https://api.two'],
        plan: 'pro',
        client_id: tenant.id,
        tenant_id: tenant.id,
      });
      expect(payload.jti).not.toBe((await verifyLoose(first.access_token)).jti);

      // Within the grace window, the parent again gets the same child (a lost response, a second tab).
      const retry = await json({ grant_type: 'refresh_token', refresh_token: first.refresh_token }).expect(200);
      expect(retry.body.refresh_token).toBe(rotated.body.refresh_token);
      expect(retry.body.access_token).not.toBe(rotated.body.access_token);

      const clock = t.tessera.app.get(Clock);
      const later = new Date(Date.now() + 60_000);
      const spy = jest.spyOn(clock, 'now').mockReturnValue(later);
      try {
        const reuse = await form({ grant_type: 'refresh_token', refresh_token: first.refresh_token }).expect(400);
        expect(reuse.body).toEqual(oauthError('invalid_grant'));
        const newest = await form({ grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token }).expect(400);
        expect(newest.body).toEqual(oauthError('invalid_grant'));
      } finally {
        spy.mockRestore();
      }
      expect(t.logs()).not.toContain(first.refresh_token);
      expect(t.logs()).not.toContain(rotated.body.refresh_token);
    });

    it('allows a narrower scope on refresh, refuses a wider one with invalid_scope', async () => {
      const first = (await issue({ sub: 'user-2', scope: 'a b' })).body;
      const narrower = await form({ grant_type: 'refresh_token', refresh_token: first.refresh_token, scope: 'a' }).expect(200);
      expect(narrower.body.scope).toBe('a');
      expect((await verify(narrower.body.access_token)).payload.scope).toBe('a');
      const wider = await form({ grant_type: 'refresh_token', refresh_token: narrower.body.refresh_token, scope: 'a c' }).expect(400);
      expect(wider.body).toEqual(oauthError('invalid_scope'));
      const malformed = await form({ grant_type: 'refresh_token', refresh_token: narrower.body.refresh_token, scope: 'a\\b' }).expect(400);
      expect(malformed.body).toEqual(oauthError('invalid_scope'));
    });

    it('does not rotate on a refused wider scope: the same token refreshes normally later, no reuse alarm, the family lives (issue 17.5)', async () => {
      const first = (await issue({ sub: 'user-scope-burn', scope: 'a b' })).body;
      const logsBefore = t.logs().length;
      const wider = await form({ grant_type: 'refresh_token', refresh_token: first.refresh_token, scope: 'a admin' }).expect(400);
      expect(wider.body).toEqual(oauthError('invalid_scope'));
      // Past the grace window, so a token the refused request had used up would now count as reused.
      const spy = jest.spyOn(t.tessera.app.get(Clock), 'now').mockReturnValue(new Date(Date.now() + 60_000));
      try {
        const normal = await form({ grant_type: 'refresh_token', refresh_token: first.refresh_token }).expect(200);
        expect(normal.body.scope).toBe('a b');
        await form({ grant_type: 'refresh_token', refresh_token: normal.body.refresh_token, scope: 'a' }).expect(200);
      } finally {
        spy.mockRestore();
      }
      const families = await t.sql<{ revoked_at: Date | null }>(`SELECT revoked_at FROM refresh_families WHERE sub = 'user-scope-burn'`);
      expect(families).toEqual([{ revoked_at: null }]);
      expect(
        await t.sql(`SELECT id FROM audit_events WHERE type = 'refresh_token.reuse_detected' AND subject = 'user-scope-burn'`),
      ).toEqual([]);
      expect(t.logs().slice(logsBefore)).not.toContain('Refresh token reuse detected');
    });

    it('answers invalid_grant for unknown or garbage tokens and invalid_request without one', async () => {
      for (const refresh_token of ['trt_' + 'A'.repeat(43), 'garbage', 'x'.repeat(5000)]) {
        expect((await form({ grant_type: 'refresh_token', refresh_token }).expect(400)).body).toEqual(oauthError('invalid_grant'));
      }
      expect((await form({ grant_type: 'refresh_token' }).expect(400)).body).toEqual({
        error: 'invalid_request',
        error_description: 'refresh_token is required',
      });
    });

    it('requires the client’s authentication for a refresh token issued to a client', async () => {
      const first = (await issue({ sub: 'user-3', clientId: client.clientId, scope: 'orders:read' })).body;
      const anonymous = await form({ grant_type: 'refresh_token', refresh_token: first.refresh_token }).expect(401);
      expect(anonymous.body).toEqual(oauthError('invalid_client'));
      const otherClient = (
        await t.http
          .post(`/v1/tenants/${tenant.id}/clients`)
          .set(admin())
          .send({ name: 'other', scopes: ['orders:read'] })
          .expect(201)
      ).body;
      const other = await form(
        { grant_type: 'refresh_token', refresh_token: first.refresh_token },
        { authorization: basic(otherClient.clientId, otherClient.clientSecret) },
      ).expect(400);
      expect(other.body).toEqual(oauthError('invalid_grant'));
      const ok = await form(
        { grant_type: 'refresh_token', refresh_token: first.refresh_token },
        { authorization: basic(client.clientId, client.clientSecret) },
      ).expect(200);
      expect((await verify(ok.body.access_token)).payload).toMatchObject({ client_id: client.clientId, sub: 'user-3' });
    });
  });

  describe('urn:ietf:params:oauth:grant-type:jwt-bearer', () => {
    let keyTenant: { id: string; apiKey: { 'x-api-key': string } };
    let privateKey: KeyObject;
    let kid: string;

    beforeAll(async () => {
      keyTenant = await createTenant('oauth-jwt-bearer', { accessTokenMaxTtl: 200 });
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      privateKey = pair.privateKey;
      const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }) as string;
      kid = (
        await t.http
          .post(`/v1/tenants/${keyTenant.id}/jwt-keys`)
          .set(keyTenant.apiKey)
          .send({ label: 'backend', algorithm: 'RS256', publicKeyPem: pem })
          .expect(201)
      ).body.kid;
    });

    function assertion(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ sub: 'user-77', jti: randomUUID(), aud: TOKEN_ENDPOINT, iat: now, exp: now + 120, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT', ...header })
        .sign(privateKey);
    }

    it('exchanges an assertion for an access token about its sub, in the key’s tenant, without a refresh token', async () => {
      const res = await form({ grant_type: JWT_BEARER, assertion: await assertion({ groupRef: 'g-1', tenant_id: keyTenant.id }) }).expect(
        200,
      );
      expect(res.headers['cache-control']).toBe('no-store');
      // The assertion has 120 s left: the token never outlives it (docs/adr/0014).
      expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: expect.any(Number), scope: '' });
      expect(res.body.expires_in).toBeGreaterThan(100);
      expect(res.body.expires_in).toBeLessThanOrEqual(120);
      const { payload } = await verify(res.body.access_token);
      expect(payload).toMatchObject({ sub: 'user-77', tenant_id: keyTenant.id, client_id: keyTenant.id, scope: '', iss: PUBLIC_URL });
      expect(payload.groupRef).toBeUndefined();
      const viaJson = await json({
        grant_type: JWT_BEARER,
        assertion: await assertion({ aud: [TOKEN_ENDPOINT, 'https://other.example'] }),
      }).expect(200);
      expect((await verify(viaJson.body.access_token)).payload.sub).toBe('user-77');
      // The issuer is a verify audience here, so a token for it is a bearer token, not an assertion.
      await json({ grant_type: JWT_BEARER, assertion: await assertion({ aud: PUBLIC_URL }) }).expect(400);
    });

    it('refuses a replayed assertion with invalid_grant', async () => {
      const a = await assertion();
      await form({ grant_type: JWT_BEARER, assertion: a }).expect(200);
      const replay = await form({ grant_type: JWT_BEARER, assertion: a }).expect(400);
      expect(replay.body).toEqual({ error: 'invalid_grant', error_description: expect.stringContaining('already used') });
      const [row] = await t.sql<{ tenant_id: string; kid: string }>(
        'SELECT tenant_id, kid FROM jwt_bearer_jtis WHERE tenant_id = $1 LIMIT 1',
        [keyTenant.id],
      );
      expect(row).toEqual({ tenant_id: keyTenant.id, kid });
    });

    it('accepts an assertion exactly once among 10 parallel requests', async () => {
      for (let round = 0; round < 3; round++) {
        const a = await assertion();
        const results = await Promise.all(Array.from({ length: 10 }, () => form({ grant_type: JWT_BEARER, assertion: a })));
        const statuses = results.map((r) => r.status).sort();
        expect(statuses).toEqual([200, ...Array(9).fill(400)]);
        for (const r of results.filter((x) => x.status === 400)) expect(r.body.error).toBe('invalid_grant');
      }
    });

    it('answers invalid_grant for assertions that fail the rules, without burning their jti', async () => {
      const now = Math.floor(Date.now() / 1000);
      const jti = randomUUID();
      const bad = [
        await assertion({ jti, exp: now - 100, iat: now - 200 }),
        await assertion({ jti, aud: 'https://elsewhere.example' }),
        await assertion({ jti, aud: undefined }),
        await assertion({ jti, exp: now + 700, iat: now }),
        await assertion({ jti: undefined }),
        await assertion({ jti, iss: '00000000-0000-4000-8000-000000000000' }),
        await assertion({ jti }, { typ: 'at+jwt' }),
        'not.a.jwt',
      ];
      for (const a of bad) {
        const res = await form({ grant_type: JWT_BEARER, assertion: a });
        expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: oauthError('invalid_grant') });
      }
      const ownToken = (
        await t.http.post(`/v1/tenants/${keyTenant.id}/tokens`).set(keyTenant.apiKey).send({ sub: 's', refreshToken: false }).expect(201)
      ).body.access_token;
      expect((await form({ grant_type: JWT_BEARER, assertion: ownToken }).expect(400)).body).toEqual(oauthError('invalid_grant'));
      expect((await form({ grant_type: JWT_BEARER }).expect(400)).body).toEqual({
        error: 'invalid_request',
        error_description: 'assertion is required',
      });
      // None of the refused assertions used the jti up.
      await form({ grant_type: JWT_BEARER, assertion: await assertion({ jti }) }).expect(200);
    });

    it('grants scopes within the assertion’s scope claim and the authenticated client’s scopes', async () => {
      const withScope = await form({ grant_type: JWT_BEARER, assertion: await assertion({ scope: 'read write' }) }).expect(200);
      expect(withScope.body.scope).toBe('read write');
      const narrower = await form({ grant_type: JWT_BEARER, assertion: await assertion({ scope: 'read write' }), scope: 'read' }).expect(
        200,
      );
      expect(narrower.body.scope).toBe('read');
      expect(
        (await form({ grant_type: JWT_BEARER, assertion: await assertion({ scope: 'read' }), scope: 'write' }).expect(400)).body,
      ).toEqual(oauthError('invalid_scope'));
      // Neither a scope claim nor a client: nothing to grant, so asking is invalid_scope (docs/adr/0014).
      expect((await form({ grant_type: JWT_BEARER, assertion: await assertion(), scope: 'anything' }).expect(400)).body).toEqual(
        oauthError('invalid_scope'),
      );

      const c = (
        await t.http
          .post(`/v1/tenants/${keyTenant.id}/clients`)
          .set(admin())
          .send({ name: 'bearer-client', scopes: ['read'] })
          .expect(201)
      ).body;
      const auth = { authorization: basic(c.clientId, c.clientSecret) };
      const withClient = await form({ grant_type: JWT_BEARER, assertion: await assertion({ scope: 'read write' }) }, auth).expect(200);
      expect(withClient.body.scope).toBe('read');
      expect((await verify(withClient.body.access_token)).payload.client_id).toBe(c.clientId);
      expect((await form({ grant_type: JWT_BEARER, assertion: await assertion(), scope: 'write' }, auth).expect(400)).body).toEqual(
        oauthError('invalid_scope'),
      );

      // A client of another tenant cannot exchange this tenant's assertion.
      await form(
        { grant_type: JWT_BEARER, assertion: await assertion() },
        { authorization: basic(client.clientId, client.clientSecret) },
      ).expect(400);
    });

    it('stops accepting assertions once the key is deleted', async () => {
      const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = pair.publicKey.export({ format: 'jwk' });
      const ecKid = (
        await t.http.post(`/v1/tenants/${keyTenant.id}/jwt-keys`).set(admin()).send({ label: 'ec', algorithm: 'ES256', jwk }).expect(201)
      ).body.kid;
      const sign = () => {
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({ sub: 'u', jti: randomUUID(), aud: TOKEN_ENDPOINT, iat: now, exp: now + 60 })
          .setProtectedHeader({ alg: 'ES256', kid: ecKid })
          .sign(pair.privateKey);
      };
      await form({ grant_type: JWT_BEARER, assertion: await sign() }).expect(200);
      await t.http.delete(`/v1/tenants/${keyTenant.id}/jwt-keys/${ecKid}`).set(admin()).expect(204);
      // The verifier may cache a key lookup briefly (docs/adr/0007); bounded wait for the delete to show.
      let status = 200;
      for (let i = 0; i < 40 && status === 200; i++) {
        status = (await form({ grant_type: JWT_BEARER, assertion: await sign() })).status;
        if (status === 200) await new Promise((r) => setTimeout(r, 250));
      }
      expect(status).toBe(400);
    });
  });

  async function verifyLoose(token: string) {
    return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
  }
});
