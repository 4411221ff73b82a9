import { createPublicKey, JsonWebKey } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, JSONWebKeySet, jwtVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import { Clock } from '../src/common/clock';
import { startTestApp, TestApp } from './utils/test-app';

const PUBLIC_URL = 'https://tessera.test';

describe('token issuance: POST /v1/tenants/:tenantId/tokens (e2e)', () => {
  let t: TestApp;
  const admin = () => ({ 'x-api-key': t.adminKey });

  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_URL, ACCESS_TOKEN_TTL: '900' } });
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

  const issue = (tenantId: string, body: object, headers = admin()) =>
    t.http.post(`/v1/tenants/${tenantId}/tokens`).set(headers).send(body);

  async function verify(token: string) {
    const jwks = (await t.http.get('/.well-known/jwks.json').expect(200)).body as JSONWebKeySet;
    return jwtVerify(token, createLocalJWKSet(jwks), { issuer: PUBLIC_URL, typ: 'at+jwt' });
  }

  it('issues an RFC 9068 access token and a refresh token that verify against the published JWKS', async () => {
    const tenant = await createTenant('tokens-basic', { accessTokenMaxTtl: 3600 });
    const before = Math.floor(Date.now() / 1000);
    const res = await issue(
      tenant.id,
      { sub: 'user-42', scope: 'orders:read  orders:write orders:read', claims: { groupRef: 'g-7', nested: { a: [1, 2] } } },
      tenant.apiKey,
    ).expect(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['pragma']).toBe('no-cache');
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.any(String),
      refresh_expires_in: expect.any(Number),
      scope: 'orders:read orders:write',
    });
    expect(res.body.refresh_expires_in).toBeGreaterThan(900);

    const { payload, protectedHeader } = await verify(res.body.access_token);
    expect(protectedHeader).toEqual({ alg: 'RS256', kid: expect.any(String), typ: 'at+jwt' });
    expect(payload).toEqual({
      iss: PUBLIC_URL,
      sub: 'user-42',
      aud: PUBLIC_URL,
      exp: payload.iat! + 900,
      iat: expect.any(Number),
      nbf: payload.iat,
      jti: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      client_id: tenant.id,
      scope: 'orders:read orders:write',
      tenant_id: tenant.id,
      groupRef: 'g-7',
      nested: { a: [1, 2] },
    });
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(t.logs()).not.toContain(res.body.access_token);
    expect(t.logs()).not.toContain(res.body.refresh_token);
  });

  it('issues tokens that jsonwebtoken, a library no one here wrote, verifies with the published key', async () => {
    const tenant = await createTenant('tokens-interop');
    const res = await issue(tenant.id, { sub: 'user-9', scope: 'a', refreshToken: false }).expect(201);
    const jwks = (await t.http.get('/.well-known/jwks.json').expect(200)).body as { keys: Array<JsonWebKey & { kid: string }> };
    const jwk = jwks.keys.find((k) => k.kid === decodeProtectedHeader(res.body.access_token).kid)!;
    const claims = jsonwebtoken.verify(res.body.access_token, createPublicKey({ key: jwk, format: 'jwk' }), {
      algorithms: ['RS256'],
      issuer: PUBLIC_URL,
      audience: PUBLIC_URL,
    }) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'user-9', scope: 'a', tenant_id: tenant.id, client_id: tenant.id });
  });

  it('defaults: no scope means "", the default audience, ACCESS_TOKEN_TTL capped by the tenant maximum; refreshToken false issues none', async () => {
    const tenant = await createTenant('tokens-defaults', { accessTokenMaxTtl: 300 });
    const res = await issue(tenant.id, { sub: 's', refreshToken: false }).expect(201);
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300, scope: '' });
    const { payload } = await verify(res.body.access_token);
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(payload.scope).toBe('');
    expect(payload.aud).toBe(PUBLIC_URL);
  });

  it('takes audience as a string or an array', async () => {
    const tenant = await createTenant('tokens-aud');
    const one = await issue(tenant.id, { sub: 's', audience: 'https://api.example.com', refreshToken: false }).expect(201);
    expect((await verify(one.body.access_token)).payload.aud).toBe('https://api.example.com');
    const many = await issue(tenant.id, { sub: 's', audience: ['https://a.example', 'https://b.example'], refreshToken: false }).expect(
      201,
    );
    expect((await verify(many.body.access_token)).payload.aud).toEqual(['https://a.example', 'https://b.example']);
    for (const audience of ['', [], ['ok', ''], [1], Array.from({ length: 6 }, (_, i) => `a${i}`), 'x'.repeat(257), { a: 1 }]) {
      const res = await issue(tenant.id, { sub: 's', audience }).expect(400);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('audience') });
    }
  });

  it('enforces accessTokenTtl bounds: whole seconds from 10 to the tenant maximum', async () => {
    const tenant = await createTenant('tokens-ttl', { accessTokenMaxTtl: 120 });
    for (const ttl of [10, 120]) {
      const res = await issue(tenant.id, { sub: 's', accessTokenTtl: ttl, refreshToken: false }).expect(201);
      expect(res.body.expires_in).toBe(ttl);
      const { payload } = await verify(res.body.access_token);
      expect(payload.exp! - payload.iat!).toBe(ttl);
    }
    for (const ttl of [9, 0, -5, 121, 86401, 30.5, '60', null]) {
      const res = await issue(tenant.id, { sub: 's', accessTokenTtl: ttl });
      expect({ ttl, status: res.status }).toEqual({ ttl, status: 400 });
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('accessTokenTtl') });
    }
    const over = await issue(tenant.id, { sub: 's', accessTokenTtl: 121 }).expect(400);
    expect(over.body.message).toContain('between 10 and 120 seconds');
  });

  it('refuses custom claims naming a registered or Tessera-set claim, naming it, and oversized claims', async () => {
    const tenant = await createTenant('tokens-claims');
    for (const name of ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'client_id', 'scope', 'tenant_id', 'cnf', 'act']) {
      const res = await issue(tenant.id, { sub: 's', claims: { ok: 1, [name]: 'x' } }).expect(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'bad_request',
        code: 'VALIDATION_FAILED',
        message: expect.stringContaining(`"${name}"`),
      });
    }
    const big = await issue(tenant.id, { sub: 's', claims: { blob: 'x'.repeat(5000) } }).expect(400);
    expect(big.body.message).toMatch(/at most 4096 bytes/);
    for (const claims of ['text', [1, 2], 5]) {
      await issue(tenant.id, { sub: 's', claims }).expect(400);
    }
    await issue(tenant.id, { sub: 's', claims: { blob: 'x'.repeat(4000) }, refreshToken: false }).expect(201);
  });

  it('names one of the tenant’s clients: client_id in the token, scope within the client’s scopes', async () => {
    const tenant = await createTenant('tokens-client');
    const other = await createTenant('tokens-client-other');
    const client = (
      await t.http
        .post(`/v1/tenants/${tenant.id}/clients`)
        .set(admin())
        .send({ name: 'web', scopes: ['a', 'b'] })
        .expect(201)
    ).body;
    const foreign = (
      await t.http
        .post(`/v1/tenants/${other.id}/clients`)
        .set(admin())
        .send({ name: 'x', scopes: ['a'] })
        .expect(201)
    ).body;

    const res = await issue(tenant.id, { sub: 'u', clientId: client.clientId, scope: 'b', refreshToken: false }).expect(201);
    const { payload } = await verify(res.body.access_token);
    expect(payload).toMatchObject({ client_id: client.clientId, scope: 'b', tenant_id: tenant.id });

    const outside = await issue(tenant.id, { sub: 'u', clientId: client.clientId, scope: 'a c' }).expect(400);
    expect(outside.body.message).toContain('"c"');
    const unknown = await issue(tenant.id, { sub: 'u', clientId: foreign.clientId }).expect(400);
    expect(unknown.body).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('clientId') });
    await issue(tenant.id, { sub: 'u', clientId: 'tcl_nope' }).expect(400);
    await t.http.delete(`/v1/tenants/${tenant.id}/clients/${client.clientId}`).set(admin()).expect(204);
    await issue(tenant.id, { sub: 'u', clientId: client.clientId }).expect(400);
  });

  it('validates sub and scope syntax and refuses unknown fields', async () => {
    const tenant = await createTenant('tokens-validation');
    const cases: Array<[object, RegExp]> = [
      [{}, /sub/],
      [{ sub: '' }, /sub/],
      [{ sub: 'a\nb' }, /sub: must not contain control characters/],
      [{ sub: 'x'.repeat(256) }, /sub/],
      [{ sub: 5 }, /sub/],
      [{ sub: 's', scope: 'a "b"' }, /scope/],
      [{ sub: 's', scope: 'a\tb' }, /scope/],
      [{ sub: 's', scope: ['a'] }, /scope/],
      [{ sub: 's', scope: Array.from({ length: 51 }, (_, i) => `s${i}`).join(' ') }, /scope/],
      [{ sub: 's', refreshToken: 'yes' }, /refreshToken/],
      [{ sub: 's', scope: null }, /scope/],
      [{ sub: 's', clientId: null }, /clientId/],
      [{ sub: 's', audience: null }, /audience/],
      [{ sub: 's', claims: null }, /claims/],
      [{ sub: 's', refreshToken: null }, /refreshToken/],
      [{ sub: 's', tenantId: 'x' }, /tenantId: unknown field/],
    ];
    for (const [body, message] of cases) {
      const res = await issue(tenant.id, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'bad_request',
        code: 'VALIDATION_FAILED',
        message: expect.stringMatching(message),
      });
    }
    const form = await t.http.post(`/v1/tenants/${tenant.id}/tokens`).set(admin()).type('form').send('sub=s').expect(415);
    expect(form.body).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('keeps tenants apart and refuses disabled or unknown tenants', async () => {
    const a = await createTenant('tokens-iso-a');
    const b = await createTenant('tokens-iso-b');
    const forbidden = await issue(b.id, { sub: 's' }, a.apiKey).expect(403);
    expect(forbidden.body).toMatchObject({ code: 'TENANT_FORBIDDEN' });
    await t.http.post(`/v1/tenants/${a.id}/tokens`).send({ sub: 's' }).expect(401);
    await issue('00000000-0000-4000-8000-000000000000', { sub: 's' }).expect(404);
    await t.http.patch(`/v1/tenants/${b.id}`).set(admin()).send({ disabled: true }).expect(200);
    const disabled = await issue(b.id, { sub: 's' }).expect(403);
    expect(disabled.body).toMatchObject({ code: 'TENANT_FORBIDDEN' });
    await issue(b.id, { sub: 's' }, b.apiKey).expect(403);
    expect(await t.sql('SELECT 1 FROM refresh_families WHERE tenant_id = $1', [b.id])).toEqual([]);
  });

  it('stamps iat/nbf/exp from the injected clock', async () => {
    const tenant = await createTenant('tokens-clock');
    const clock = t.tessera.app.get(Clock);
    const now = jest.spyOn(clock, 'now').mockReturnValue(new Date('2030-01-01T00:00:00Z'));
    try {
      const res = await issue(tenant.id, { sub: 's', accessTokenTtl: 60, refreshToken: false }).expect(201);
      const [, payload] = res.body.access_token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      expect(claims).toMatchObject({ iat: 1893456000, nbf: 1893456000, exp: 1893456060 });
      expect(decodeProtectedHeader(res.body.access_token).typ).toBe('at+jwt');
    } finally {
      now.mockRestore();
    }
  });
});

describe('token issuance with SIGNING_ALGORITHM=ES256 (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_URL, SIGNING_ALGORITHM: 'ES256' } });
  });
  afterAll(() => t.close());

  it('signs with the configured algorithm, and the token verifies against the JWKS', async () => {
    const tenant = (await t.http.post('/v1/tenants').set('x-api-key', t.adminKey).send({ name: 'es256' }).expect(201)).body;
    const res = await t.http
      .post(`/v1/tenants/${tenant.id}/tokens`)
      .set('x-api-key', t.adminKey)
      .send({ sub: 's', refreshToken: false })
      .expect(201);
    const jwks = (await t.http.get('/.well-known/jwks.json').expect(200)).body as JSONWebKeySet;
    const { protectedHeader, payload } = await jwtVerify(res.body.access_token, createLocalJWKSet(jwks), {
      issuer: PUBLIC_URL,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload.tenant_id).toBe(tenant.id);
  });
});
