import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { Clock } from '../src/common/clock';
import { KeyRotationService } from '../src/keys/key-rotation.service';
import { SigningService } from '../src/keys/signing.service';
import { startTestApp, TestApp } from './utils/test-app';

const DELAY = 600;
const TTL = 600;
const TOLERANCE = 30;

/** One app plus a movable clock: the lifecycle is driven by `tick()`, never by sleeping. */
async function start(env: Record<string, string> = {}, databaseUrl?: string) {
  const t = await startTestApp({
    databaseUrl,
    env: {
      KEY_PUBLISH_DELAY: String(DELAY),
      ACCESS_TOKEN_TTL: String(TTL),
      CLOCK_TOLERANCE_SECONDS: String(TOLERANCE),
      KEY_CHECK_INTERVAL: '3600',
      ...env,
    },
  });
  const clock = t.tessera.app.get(Clock);
  let now = Date.now();
  jest.spyOn(clock, 'now').mockImplementation(() => new Date(now));
  return {
    t,
    rotation: t.tessera.app.get(KeyRotationService),
    signer: t.tessera.app.get(SigningService),
    advance: (seconds: number) => (now += seconds * 1000),
    now: () => now,
  };
}

/** Every asymmetric JWS algorithm, in the order discovery lists them (client assertions and DPoP proofs). */
const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

describe('signing keys (e2e)', () => {
  const opened: TestApp[] = [];
  afterAll(async () => {
    for (const t of opened.reverse()) await t.close();
  });

  async function app(env: Record<string, string> = {}, databaseUrl?: string) {
    const started = await start(env, databaseUrl);
    opened.push(started.t);
    return started;
  }

  const jwks = async (t: TestApp) => (await t.http.get('/.well-known/jwks.json').expect(200)).body as { keys: Record<string, string>[] };
  const statuses = async (t: TestApp) =>
    Object.fromEntries(
      ((await t.http.get('/v1/signing-keys').set('x-api-key', t.adminKey).expect(200)).body as { kid: string; status: string }[]).map(
        (k) => [k.kid, k.status],
      ),
    );

  it('creates one active RS256 key on first start, publishes it with caching headers, and signs RFC 9068 tokens it verifies', async () => {
    const { t, signer } = await app();
    const first = await t.http.get('/.well-known/jwks.json').expect(200);
    expect(first.headers['cache-control']).toBe('public, max-age=600');
    expect(first.headers['content-type']).toMatch(/^application\/json/);
    expect(first.body.keys).toHaveLength(1);
    const [key] = first.body.keys;
    expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });

    await t.http.get('/.well-known/jwks.json').set('if-none-match', first.headers.etag).expect(304);
    await t.http.get('/.well-known/jwks.json').set('if-none-match', `W/${first.headers.etag}, "other"`).expect(304);
    await t.http.get('/.well-known/jwks.json').set('if-none-match', '"stale"').expect(200);

    const token = await signer.sign({ iss: 'https://tessera.test', sub: 'alice', aud: 'api', exp: Math.floor(Date.now() / 1000) + 60 });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', kid: key.kid, typ: 'at+jwt' });
    const { payload } = await jwtVerify(token, createLocalJWKSet(first.body), { typ: 'at+jwt', algorithms: ['RS256'] });
    expect(payload.sub).toBe('alice');

    const list = await t.http.get('/v1/signing-keys').set('x-api-key', t.adminKey).expect(200);
    expect(list.body).toEqual([
      {
        kid: key.kid,
        algorithm: 'RS256',
        status: 'active',
        createdAt: expect.any(String),
        activatesAt: expect.any(String),
        activatedAt: expect.any(String),
        retiringAt: null,
        retireAt: null,
        retiredAt: null,
      },
    ]);
    // The private half is stored encrypted only, and appears in no answer or log line.
    const [row] = await t.sql<{ private_key_ciphertext: Buffer; kek_id: string }>(
      'SELECT private_key_ciphertext, kek_id FROM signing_keys',
    );
    expect(row.private_key_ciphertext.length).toBeGreaterThan(1000);
    expect(row.private_key_ciphertext.includes(Buffer.from('PRIVATE KEY'))).toBe(false);
    // (The exact shape of the list above leaves no room for ciphertext, kek_id or a private member.)
    expect(t.logs()).not.toMatch(/PRIVATE KEY|private_key_ciphertext/);
  });

  it('walks pending → active → retiring → retired at the right moments, and a second rotation while one is pending returns it', async () => {
    const { t, rotation, signer, advance } = await app();
    const [original] = (await jwks(t)).keys;

    const rotated = await t.http.post('/v1/signing-keys/rotate').set('x-api-key', t.adminKey).expect(201);
    expect(rotated.body).toEqual({ kid: expect.any(String), status: 'pending', activatesAt: expect.any(String) });
    const next = rotated.body.kid as string;
    const activatesAt = Date.parse(rotated.body.activatesAt);
    await t.http.post('/v1/signing-keys/rotate').set('x-api-key', t.adminKey).expect(200, rotated.body);

    // Published before it signs.
    expect((await jwks(t)).keys.map((k) => k.kid)).toEqual([original.kid, next]);
    expect(decodeProtectedHeader(await signer.sign({ sub: 'x' })).kid).toBe(original.kid);

    advance(DELAY - 1);
    await rotation.check();
    expect(await statuses(t)).toEqual({ [original.kid]: 'active', [next]: 'pending' });

    advance(1);
    await rotation.check();
    expect(await statuses(t)).toEqual({ [original.kid]: 'retiring', [next]: 'active' });
    expect(decodeProtectedHeader(await signer.sign({ sub: 'x' })).kid).toBe(next);
    expect((await jwks(t)).keys.map((k) => k.kid)).toEqual([next, original.kid]);
    const old = (await t.http.get('/v1/signing-keys').set('x-api-key', t.adminKey).expect(200)).body.find(
      (k: { kid: string }) => k.kid === original.kid,
    );
    // Retained for the longest token lifetime plus the clock tolerance.
    expect(Date.parse(old.retireAt) - Date.parse(old.retiringAt)).toBe((TTL + TOLERANCE) * 1000);
    expect(Date.parse(old.retiringAt)).toBeGreaterThanOrEqual(activatesAt);

    advance(TTL + TOLERANCE - 1);
    await rotation.check();
    expect((await jwks(t)).keys).toHaveLength(2);
    advance(1);
    await rotation.check();
    expect(await statuses(t)).toEqual({ [original.kid]: 'retired', [next]: 'active' });
    expect((await jwks(t)).keys.map((k) => k.kid)).toEqual([next]);

    // Each step is in the audit log, with who asked for it.
    const events = await t.sql<{ type: string; subject: string; actor: string; request_id: string | null }>(
      `SELECT type, subject, actor, request_id FROM audit_events WHERE type LIKE 'signing_key.%' ORDER BY created_at, id`,
    );
    expect(events.map((e) => [e.type, e.subject, e.actor])).toEqual([
      ['signing_key.created', original.kid, 'system'],
      ['signing_key.created', next, 'admin'],
      ['signing_key.activated', next, 'system'],
      ['signing_key.retired', original.kid, 'system'],
    ]);
    expect(events[1].request_id).toEqual(expect.any(String));
  });

  it('keeps a retiring key as long as the longest tenant token lifetime', async () => {
    const { t, rotation, advance } = await app();
    await t.http.post('/v1/tenants').set('x-api-key', t.adminKey).send({ name: 'long-tokens', accessTokenMaxTtl: 3600 }).expect(201);
    await t.http.post('/v1/signing-keys/rotate').set('x-api-key', t.adminKey).expect(201);
    advance(DELAY);
    await rotation.check();
    const retiring = (await t.http.get('/v1/signing-keys').set('x-api-key', t.adminKey).expect(200)).body.find(
      (k: { status: string }) => k.status === 'retiring',
    );
    expect(Date.parse(retiring.retireAt) - Date.parse(retiring.retiringAt)).toBe((3600 + TOLERANCE) * 1000);
  });

  it('rotates on schedule: publishes the next key KEY_PUBLISH_DELAY before the interval ends', async () => {
    const { t, rotation, advance } = await app({ KEY_ROTATION_INTERVAL: '1h' });
    const [original] = (await jwks(t)).keys;
    advance(3600 - DELAY - 1);
    await rotation.check();
    expect((await jwks(t)).keys).toHaveLength(1);
    advance(1);
    await rotation.check();
    const keys = await statuses(t);
    const next = Object.keys(keys).find((kid) => kid !== original.kid)!;
    expect(keys).toEqual({ [original.kid]: 'active', [next]: 'pending' });
    advance(DELAY);
    await rotation.check();
    expect(await statuses(t)).toEqual({ [original.kid]: 'retiring', [next]: 'active' });
  });

  it('emergency rotation retires the active key at once: its tokens stop verifying', async () => {
    const { t, signer } = await app();
    const before = await jwks(t);
    const token = await signer.sign({ sub: 'x', exp: Math.floor(Date.now() / 1000) + 600 });
    await jwtVerify(token, createLocalJWKSet(before as never));

    await t.http.post('/v1/signing-keys/rotate?immediate=maybe').set('x-api-key', t.adminKey).expect(400);
    const res = await t.http.post('/v1/signing-keys/rotate?immediate=true').set('x-api-key', t.adminKey).expect(201);
    expect(res.body).toEqual({ kid: expect.any(String), status: 'active', activatesAt: expect.any(String) });
    const after = await jwks(t);
    expect(after.keys.map((k) => k.kid)).toEqual([res.body.kid]);
    await expect(jwtVerify(token, createLocalJWKSet(after as never))).rejects.toThrow();
    expect(decodeProtectedHeader(await signer.sign({ sub: 'x' })).kid).toBe(res.body.kid);
  });

  it('publishes RFC 8414 metadata at both discovery paths, naming only what exists', async () => {
    const { t } = await app({ PUBLIC_URL: 'https://auth.example.test' });
    const res = await t.http.get('/.well-known/oauth-authorization-server').expect(200);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.body).toEqual({
      issuer: 'https://auth.example.test',
      jwks_uri: 'https://auth.example.test/.well-known/jwks.json',
      token_endpoint: 'https://auth.example.test/oauth/token',
      revocation_endpoint: 'https://auth.example.test/oauth/revoke',
      introspection_endpoint: 'https://auth.example.test/oauth/introspect',
      grant_types_supported: ['client_credentials', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ASYMMETRIC_ALGS,
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      revocation_endpoint_auth_signing_alg_values_supported: ASYMMETRIC_ALGS,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      introspection_endpoint_auth_signing_alg_values_supported: ASYMMETRIC_ALGS,
      response_types_supported: [],
      service_documentation: 'https://auth.example.test/docs',
      access_token_signing_alg_values_supported: ['RS256'],
      dpop_signing_alg_values_supported: ASYMMETRIC_ALGS,
    });
    await t.http.get('/.well-known/openid-configuration').expect(200, res.body);
  });

  it('refuses tenant keys on the admin routes', async () => {
    const { t } = await app();
    const tenant = await t.http.post('/v1/tenants').set('x-api-key', t.adminKey).send({ name: 'not-admin' }).expect(201);
    const key = await t.http.post(`/v1/tenants/${tenant.body.id}/api-keys`).set('x-api-key', t.adminKey).send({}).expect(201);
    const res = await t.http.post('/v1/signing-keys/rotate').set('x-api-key', key.body.key).expect(403);
    expect(res.body.code).toBe('ADMIN_REQUIRED');
    await t.http.get('/v1/signing-keys').expect(401);
  });

  it('two replicas asked to rotate at the same moment create exactly one key, and the other replica sees it', async () => {
    const kek = randomBytes(32).toString('hex');
    const a = await app({ KEY_ENCRYPTION_KEY: kek });
    const b = await app({ KEY_ENCRYPTION_KEY: kek }, a.t.databaseUrl);
    expect((await jwks(b.t)).keys).toHaveLength(1);

    const [ra, rb] = await Promise.all([
      a.t.http.post('/v1/signing-keys/rotate').set('x-api-key', a.t.adminKey),
      b.t.http.post('/v1/signing-keys/rotate').set('x-api-key', b.t.adminKey),
    ]);
    expect([ra.status, rb.status].sort()).toEqual([200, 201]);
    expect(ra.body.kid).toBe(rb.body.kid);
    const [{ count }] = await a.t.sql<{ count: string }>(`SELECT count(*) FROM signing_keys WHERE status = 'pending'`);
    expect(count).toBe('1');
    expect((await jwks(a.t)).keys).toHaveLength(2);
    expect((await jwks(b.t)).keys).toHaveLength(2);

    // An emergency rotation on one replica reaches the other through NOTIFY (its periodic check is an hour away).
    const emergency = await a.t.http.post('/v1/signing-keys/rotate?immediate=true').set('x-api-key', a.t.adminKey).expect(201);
    const started = Date.now();
    while (Date.now() - started < 2000 && decodeProtectedHeader(await b.signer.sign({ sub: 'x' })).kid !== emergency.body.kid) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await jwks(b.t)).keys.map((k) => k.kid)).toEqual([emergency.body.kid]);
  });

  it('stops start-up with one clear line on a wrong KEY_ENCRYPTION_KEY, and re-encrypts under a new one listed with the previous', async () => {
    const kek = randomBytes(32).toString('hex');
    const a = await app({ KEY_ENCRYPTION_KEY: kek });
    const [before] = await a.t.sql<{ kek_id: string }>('SELECT kek_id FROM signing_keys');

    const wrong = randomBytes(32).toString('hex');
    await expect(start({ KEY_ENCRYPTION_KEY: wrong }, a.t.databaseUrl)).rejects.toThrow(
      /^Signing key \S+ was encrypted with a key-encryption key that is not configured \(id [0-9a-f]{16}\): set KEY_ENCRYPTION_KEY to the key used before/,
    );

    const next = randomBytes(32).toString('hex');
    const b = await app({ KEY_ENCRYPTION_KEY: next, KEY_ENCRYPTION_KEYS_PREVIOUS: kek }, a.t.databaseUrl);
    const [after] = await b.t.sql<{ kek_id: string }>('SELECT kek_id FROM signing_keys');
    expect(after.kek_id).not.toBe(before.kek_id);
    expect(decodeProtectedHeader(await b.signer.sign({ sub: 'x' })).kid).toBe((await jwks(b.t)).keys[0].kid);
    // The old key alone no longer opens it.
    await expect(start({ KEY_ENCRYPTION_KEY: kek }, a.t.databaseUrl)).rejects.toThrow(/not configured/);
  });

  it('signs with PS256, ES256 and EdDSA when SIGNING_ALGORITHM asks', async () => {
    for (const [alg, kty] of [
      ['PS256', 'RSA'],
      ['ES256', 'EC'],
      ['EdDSA', 'OKP'],
    ] as const) {
      const { t, signer } = await app({ SIGNING_ALGORITHM: alg });
      const set = await jwks(t);
      expect(set.keys[0]).toMatchObject({ kty, alg });
      const token = await signer.sign({ sub: 'x' });
      await jwtVerify(token, createLocalJWKSet(set as never), { algorithms: [alg] });
    }
  });
});
