import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { RegisteredKeysService } from '../src/registered-keys/registered-keys.service';
import { startTestApp, TestApp } from './utils/test-app';

const MAX_KEYS = 3;
const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }) as string;
const jwkOf = (k: KeyObject) => k.export({ format: 'jwk' }) as Record<string, string>;
const thumbprint = (k: KeyObject) => calculateJwkThumbprint(jwkOf(k) as never, 'sha256');

describe('tenant-registered public keys (e2e)', () => {
  let t: TestApp;
  const admin = () => ({ 'x-api-key': t.adminKey });

  beforeAll(async () => {
    t = await startTestApp({ env: { MAX_REGISTERED_KEYS_PER_TENANT: String(MAX_KEYS) } });
  });
  afterAll(() => t.close());

  async function createTenant(name: string) {
    const res = await t.http.post('/v1/tenants').set(admin()).send({ name }).expect(201);
    const tenantId = res.body.id as string;
    const key = await t.http.post(`/v1/tenants/${tenantId}/api-keys`).set(admin()).send({}).expect(201);
    return { id: tenantId, apiKey: { 'x-api-key': key.body.key as string } };
  }

  const register = (tenantId: string, body: object, headers = admin()) =>
    t.http.post(`/v1/tenants/${tenantId}/jwt-keys`).set(headers).send(body);

  it('registers RSA PEM, EC JWK and Ed25519 keys with the RFC 7638 thumbprint as kid, and lists, reads, patches and deletes them', async () => {
    const tenant = await createTenant('keys-crud');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const ed = generateKeyPairSync('ed25519').publicKey;

    const created = await register(tenant.id, { label: 'rsa', algorithm: 'RS256', publicKeyPem: spki(rsa) }, tenant.apiKey).expect(201);
    expect(created.body).toEqual({
      kid: await thumbprint(rsa),
      label: 'rsa',
      algorithm: 'RS256',
      active: true,
      fingerprint: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
      createdAt: expect.any(String),
      proven: false,
    });
    const ecKey = await register(tenant.id, { label: 'ec', algorithm: 'ES256', jwk: jwkOf(ec) }, tenant.apiKey).expect(201);
    expect(ecKey.body.kid).toBe(await thumbprint(ec));
    const edKey = await register(tenant.id, { label: 'ed', algorithm: 'EdDSA', publicKeyPem: spki(ed) }).expect(201);
    expect(edKey.body.kid).toBe(await thumbprint(ed));

    const base = `/v1/tenants/${tenant.id}/jwt-keys`;
    const list = await t.http.get(base).set(tenant.apiKey).expect(200);
    expect(list.body).toEqual([created.body, ecKey.body, edKey.body]);
    const page = await t.http.get(`${base}?limit=1&offset=1`).set(tenant.apiKey).expect(200);
    expect(page.body).toEqual([ecKey.body]);
    await t.http.get(`${base}/${created.body.kid}`).set(tenant.apiKey).expect(200, created.body);

    const patched = await t.http
      .patch(`${base}/${created.body.kid}`)
      .set(tenant.apiKey)
      .send({ label: 'rsa-renamed', active: false })
      .expect(200);
    expect(patched.body).toEqual({ ...created.body, label: 'rsa-renamed', active: false });
    await t.http.patch(`${base}/${created.body.kid}`).set(tenant.apiKey).send({ label: '' }).expect(400);
    await t.http.patch(`${base}/${created.body.kid}`).set(tenant.apiKey).send({ algorithm: 'RS512' }).expect(400);

    await t.http.delete(`${base}/${ecKey.body.kid}`).set(tenant.apiKey).expect(204);
    const gone = await t.http.get(`${base}/${ecKey.body.kid}`).set(tenant.apiKey).expect(404);
    expect(gone.body).toEqual({ statusCode: 404, error: 'not_found', code: 'NOT_FOUND', message: 'Registered key not found' });
    await t.http.delete(`${base}/${ecKey.body.kid}`).set(tenant.apiKey).expect(404);
    await t.http.patch(`${base}/${ecKey.body.kid}`).set(tenant.apiKey).send({ active: true }).expect(404);
    expect((await t.http.get(base).set(tenant.apiKey).expect(200)).body.map((k: { kid: string }) => k.kid)).toEqual([
      created.body.kid,
      edKey.body.kid,
    ]);

    const [row] = await t.sql<{ public_jwk: object; deleted_at: Date | null; tenant_id: string }>(
      'SELECT * FROM registered_keys WHERE kid = $1',
      [ecKey.body.kid],
    );
    expect(row.tenant_id).toBe(tenant.id);
    expect(row.deleted_at).not.toBeNull();
    expect(row.public_jwk).toEqual({ kty: 'EC', crv: 'P-256', x: jwkOf(ec).x, y: jwkOf(ec).y });
  });

  it('refuses the same key twice with 409, for the same tenant, another tenant, and after a delete', async () => {
    const a = await createTenant('dup-a');
    const b = await createTenant('dup-b');
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const first = await register(a.id, { label: 'one', algorithm: 'ES384', publicKeyPem: spki(pair.publicKey) }).expect(201);

    const again = await register(a.id, { label: 'two', algorithm: 'ES384', jwk: jwkOf(pair.publicKey) }).expect(409);
    expect(again.body).toMatchObject({
      statusCode: 409,
      error: 'conflict',
      code: 'CONFLICT',
      message: expect.stringContaining('already registered'),
    });
    await register(b.id, { label: 'stolen', algorithm: 'ES384', publicKeyPem: spki(pair.publicKey) }, b.apiKey).expect(409);

    await t.http.delete(`/v1/tenants/${a.id}/jwt-keys/${first.body.kid}`).set(admin()).expect(204);
    const revived = await register(a.id, { label: 'again', algorithm: 'ES384', publicKeyPem: spki(pair.publicKey) }).expect(409);
    expect(revived.body.message).toMatch(/deleted cannot be registered again/);
    expect(await t.sql('SELECT kid FROM registered_keys WHERE kid = $1', [first.body.kid])).toHaveLength(1);
  });

  it('answers 400 VALIDATION_FAILED saying what is wrong, never echoing a private key', async () => {
    const tenant = await createTenant('keys-validation');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
    const privatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const privateJwk = jwkOf(ec.privateKey);

    const cases: Array<[object, RegExp]> = [
      [{ label: 'x', algorithm: 'RS256', publicKeyPem: 'not a pem' }, /publicKeyPem must be one PEM block/],
      [{ label: 'x', algorithm: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } }, /jwk is not a readable public key/],
      [{ label: 'x', algorithm: 'ES256', jwk: 'text' }, /jwk: must be an object/],
      [{ label: 'x', algorithm: 'RS256', publicKeyPem: privatePem }, /publicKeyPem holds a private key/],
      [{ label: 'x', algorithm: 'ES256', jwk: privateJwk }, /jwk holds private key material/],
      [{ label: 'x', algorithm: 'RS256', publicKeyPem: spki(small) }, /at least 2048 bits; this one has 1024/],
      [{ label: 'x', algorithm: 'RS256', publicKeyPem: spki(ec.publicKey) }, /RS256 needs an RSA key/],
      [{ label: 'x', algorithm: 'ES256', publicKeyPem: spki(p384) }, /ES256 needs an EC key on curve P-256/],
      [{ label: 'x', algorithm: 'HS256', publicKeyPem: spki(rsa.publicKey) }, /algorithm: must be one of the following values/],
      [{ label: 'x', algorithm: 'none', publicKeyPem: spki(rsa.publicKey) }, /algorithm/],
      [{ algorithm: 'RS256', publicKeyPem: spki(rsa.publicKey) }, /label/],
      [{ label: '', algorithm: 'RS256', publicKeyPem: spki(rsa.publicKey) }, /label: should not be empty/],
      [
        { label: 'x'.repeat(101), algorithm: 'RS256', publicKeyPem: spki(rsa.publicKey) },
        /label: must be shorter than or equal to 100 characters/,
      ],
      [
        { label: 'x', algorithm: 'RS256', publicKeyPem: 'A'.repeat(10_001) },
        /publicKeyPem: must be shorter than or equal to 10000 characters/,
      ],
      [{ label: 'x', algorithm: 'RS256' }, /exactly one of publicKeyPem or jwk/],
      [
        { label: 'x', algorithm: 'RS256', publicKeyPem: spki(rsa.publicKey), jwk: jwkOf(rsa.publicKey) },
        /exactly one of publicKeyPem or jwk/,
      ],
      [{ label: 'x', algorithm: 'RS256', publicKeyPem: spki(rsa.publicKey), privateKey: privatePem }, /privateKey: unknown field/],
    ];
    for (const [body, message] of cases) {
      const res = await register(tenant.id, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'bad_request',
        code: 'VALIDATION_FAILED',
        message: expect.stringMatching(message),
      });
      expect(res.text).not.toContain('PRIVATE KEY');
      expect(res.text).not.toContain(privatePem.split('\n')[1]);
      expect(res.text).not.toContain(privateJwk.d);
    }
    expect(await t.sql('SELECT kid FROM registered_keys WHERE tenant_id = $1', [tenant.id])).toEqual([]);
    expect(t.logs()).not.toContain(privatePem.split('\n')[1]);
    expect(t.logs()).not.toContain(privateJwk.d);
  });

  it('stores public members only', async () => {
    const tenant = await createTenant('keys-storage');
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const privateJwk = jwkOf(pair.privateKey);
    const res = await register(tenant.id, { label: 'rsa', algorithm: 'PS256', publicKeyPem: spki(pair.publicKey) }).expect(201);
    const [row] = await t.sql<Record<string, unknown>>('SELECT * FROM registered_keys WHERE kid = $1', [res.body.kid]);
    expect(Object.keys(row.public_jwk as object).sort()).toEqual(['e', 'kty', 'n']);
    const stored = JSON.stringify(row);
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(stored).not.toContain(privateJwk[member]);
  });

  it('keeps tenants apart: 403 for another tenant’s path, 404 for another tenant’s kid, 404 for an unknown tenant', async () => {
    const a = await createTenant('iso-a');
    const b = await createTenant('iso-b');
    const keyB = generateKeyPairSync('ed25519').publicKey;
    const created = await register(b.id, { label: 'b', algorithm: 'EdDSA', jwk: jwkOf(keyB) }, b.apiKey).expect(201);
    const kid = created.body.kid as string;

    const forbidden = await t.http.get(`/v1/tenants/${b.id}/jwt-keys`).set(a.apiKey).expect(403);
    expect(forbidden.body).toMatchObject({ statusCode: 403, error: 'forbidden', code: 'TENANT_FORBIDDEN' });
    await t.http.get(`/v1/tenants/${b.id}/jwt-keys/${kid}`).set(a.apiKey).expect(403);
    await t.http.patch(`/v1/tenants/${b.id}/jwt-keys/${kid}`).set(a.apiKey).send({ active: false }).expect(403);
    await t.http.delete(`/v1/tenants/${b.id}/jwt-keys/${kid}`).set(a.apiKey).expect(403);
    await register(b.id, { label: 'x', algorithm: 'EdDSA', jwk: jwkOf(generateKeyPairSync('ed25519').publicKey) }, a.apiKey).expect(403);

    for (const headers of [a.apiKey, admin()]) {
      await t.http.get(`/v1/tenants/${a.id}/jwt-keys/${kid}`).set(headers).expect(404);
      await t.http.patch(`/v1/tenants/${a.id}/jwt-keys/${kid}`).set(headers).send({ active: false }).expect(404);
      await t.http.delete(`/v1/tenants/${a.id}/jwt-keys/${kid}`).set(headers).expect(404);
      expect((await t.http.get(`/v1/tenants/${a.id}/jwt-keys`).set(headers).expect(200)).body).toEqual([]);
    }
    await t.http.get(`/v1/tenants/${b.id}/jwt-keys/${kid}`).set(b.apiKey).expect(200, created.body);

    const unknown = '00000000-0000-4000-8000-000000000000';
    await t.http.get(`/v1/tenants/${unknown}/jwt-keys`).set(admin()).expect(404);
    await register(unknown, { label: 'x', algorithm: 'EdDSA', jwk: jwkOf(keyB) }).expect(404);
    await t.http.get(`/v1/tenants/${unknown}/jwks.json`).expect(404);
    await t.http.get('/v1/tenants/not-a-uuid/jwks.json').expect(404);
  });

  it('caps live keys per tenant, counting deleted keys out', async () => {
    const tenant = await createTenant('keys-cap');
    const kids: string[] = [];
    for (let i = 0; i < MAX_KEYS; i++) {
      const res = await register(tenant.id, {
        label: `k${i}`,
        algorithm: 'ES256',
        jwk: jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey),
      }).expect(201);
      kids.push(res.body.kid);
    }
    const extra = { label: 'extra', algorithm: 'ES256', jwk: jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey) };
    const capped = await register(tenant.id, extra).expect(409);
    expect(capped.body).toEqual({
      statusCode: 409,
      error: 'conflict',
      code: 'CONFLICT',
      message: `This tenant already has ${MAX_KEYS} registered keys, the most allowed: delete one first`,
    });
    await t.http.delete(`/v1/tenants/${tenant.id}/jwt-keys/${kids[0]}`).set(admin()).expect(204);
    await register(tenant.id, extra).expect(201);
  });

  it('holds the cap under concurrent registrations', async () => {
    const tenant = await createTenant('keys-cap-race');
    const bodies = Array.from({ length: MAX_KEYS + 3 }, (_, i) => ({
      label: `r${i}`,
      algorithm: 'EdDSA',
      jwk: jwkOf(generateKeyPairSync('ed25519').publicKey),
    }));
    const statuses = (await Promise.all(bodies.map((b) => register(tenant.id, b)))).map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(MAX_KEYS).fill(201), ...Array(3).fill(409)]);
    expect(await t.sql('SELECT kid FROM registered_keys WHERE tenant_id = $1', [tenant.id])).toHaveLength(MAX_KEYS);
  });

  it('publishes the tenant’s active keys as a public JWKS with Cache-Control', async () => {
    const tenant = await createTenant('keys-jwks');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
    const ed = generateKeyPairSync('ed25519').publicKey;
    const rsaKid = (await register(tenant.id, { label: 'rsa', algorithm: 'RS384', publicKeyPem: spki(rsa) }).expect(201)).body.kid;
    const ecKid = (await register(tenant.id, { label: 'ec', algorithm: 'ES384', jwk: jwkOf(ec) }).expect(201)).body.kid;
    const edKid = (await register(tenant.id, { label: 'ed', algorithm: 'EdDSA', jwk: jwkOf(ed) }).expect(201)).body.kid;
    const other = await createTenant('keys-jwks-other');
    await register(other.id, { label: 'other', algorithm: 'EdDSA', jwk: jwkOf(generateKeyPairSync('ed25519').publicKey) }).expect(201);

    await t.http.patch(`/v1/tenants/${tenant.id}/jwt-keys/${edKid}`).set(admin()).send({ active: false }).expect(200);
    const res = await t.http.get(`/v1/tenants/${tenant.id}/jwks.json`).expect(200);
    expect(res.headers['cache-control']).toBe('public, max-age=60');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      keys: [
        { kty: 'RSA', n: jwkOf(rsa).n, e: jwkOf(rsa).e, kid: rsaKid, alg: 'RS384', use: 'sig' },
        { kty: 'EC', crv: 'P-384', x: jwkOf(ec).x, y: jwkOf(ec).y, kid: ecKid, alg: 'ES384', use: 'sig' },
      ],
    });

    await t.http.delete(`/v1/tenants/${tenant.id}/jwt-keys/${ecKid}`).set(admin()).expect(204);
    await t.http.patch(`/v1/tenants/${tenant.id}/jwt-keys/${edKid}`).set(admin()).send({ active: true }).expect(200);
    const after = await t.http.get(`/v1/tenants/${tenant.id}/jwks.json`).expect(200);
    expect(after.body.keys.map((k: { kid: string }) => k.kid)).toEqual([rsaKid, edKid]);
  });

  it('finds an active key for verification, and nothing for an inactive or deleted key or a disabled tenant', async () => {
    const keys = t.tessera.app.get(RegisteredKeysService);
    const tenant = await createTenant('keys-lookup');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const ed = generateKeyPairSync('ed25519').publicKey;
    const rsaKid = (await register(tenant.id, { label: 'rsa', algorithm: 'PS256', publicKeyPem: spki(rsa) }).expect(201)).body.kid;
    const edKid = (await register(tenant.id, { label: 'ed', algorithm: 'EdDSA', jwk: jwkOf(ed) }).expect(201)).body.kid;

    const found = await keys.findActiveKey(rsaKid);
    expect(found).toEqual({ kid: rsaKid, tenantId: tenant.id, algorithm: 'PS256', keyObject: expect.anything() });
    expect(found!.keyObject.equals(rsa)).toBe(true);
    expect(await keys.findActiveKey('no-such-kid')).toBeUndefined();

    await t.http.patch(`/v1/tenants/${tenant.id}/jwt-keys/${rsaKid}`).set(admin()).send({ active: false }).expect(200);
    expect(await keys.findActiveKey(rsaKid)).toBeUndefined();
    await t.http.delete(`/v1/tenants/${tenant.id}/jwt-keys/${rsaKid}`).set(admin()).expect(204);
    expect(await keys.findActiveKey(rsaKid)).toBeUndefined();

    expect((await keys.findActiveKey(edKid))?.keyObject.equals(ed)).toBe(true);
    await t.http.patch(`/v1/tenants/${tenant.id}`).set(admin()).send({ disabled: true }).expect(200);
    expect(await keys.findActiveKey(edKid)).toBeUndefined();
  });

  it('never writes a submitted private key to the logs', async () => {
    const tenant = await createTenant('keys-logs');
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const body = privatePem.split('\n').slice(1, -2).join('');
    await register(tenant.id, { label: 'oops', algorithm: 'ES256', publicKeyPem: privatePem }).expect(400);
    await register(tenant.id, { label: 'oops', algorithm: 'ES256', jwk: jwkOf(pair.privateKey) }).expect(400);
    expect(t.logs()).toContain('/jwt-keys');
    for (const line of privatePem.split('\n').slice(1, -2)) expect(t.logs()).not.toContain(line);
    expect(t.logs()).not.toContain(body);
    expect(t.logs()).not.toContain(jwkOf(pair.privateKey).d);
  });
});
