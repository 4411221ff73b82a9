import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createConsumerApp } from '../examples/consumer/create-consumer-app';
import { createTestKey, startTestIssuer, TestIssuer } from '../examples/consumer/test-issuer';

/**
 * The JWKS key cache behind the guard, against a local JWKS server that counts its fetches.
 * The verified-token cache is off here so that every request goes through the key cache.
 */
const MAX_AGE_MS = 300;
const PER_MINUTE = 5;
const waitPast = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Both adapters, and both integrations (the fast path, and `@Auth()` through the passport strategy) over the same key source. */
const MATRIX = (['fastify', 'express'] as const).flatMap((adapter) =>
  (['fast', 'passport'] as const).map((mode) => [adapter, mode] as const),
);

describe.each(MATRIX)('guard JWKS key cache on %s, %s path (e2e)', (adapter, mode) => {
  let jwks: TestIssuer;
  let app: INestApplication;

  async function start(options: { jwksCacheMaxAgeMs?: number; jwksMaxStaleMs?: number; verifiedCacheTtlMs?: number } = {}) {
    jwks = await startTestIssuer({ keys: [createTestKey('RS256', 'key-a'), createTestKey('ES256', 'key-b')] });
    app = await createConsumerApp({
      adapter,
      mode,
      verifiedCacheSize: options.verifiedCacheTtlMs === undefined ? 0 : 1000,
      verifiedCacheTtlMs: options.verifiedCacheTtlMs,
      issuers: [
        {
          issuer: jwks.issuer,
          audience: jwks.audience,
          algorithms: ['RS256', 'ES256'],
          jwksUri: jwks.jwksUri,
          jwksRequestsPerMinute: PER_MINUTE,
          jwksCacheMaxAgeMs: options.jwksCacheMaxAgeMs ?? 600_000,
          jwksMaxStaleMs: options.jwksMaxStaleMs,
        },
      ],
    });
  }
  afterEach(async () => {
    await app?.close();
    await jwks?.close();
  });

  const call = (token: string) => request(app.getHttpServer()).get('/guarded').set('authorization', `Bearer ${token}`);
  const keyA = () => jwks.published.find((k) => k.kid === 'key-a')!;
  const keyB = () => jwks.published.find((k) => k.kid === 'key-b')!;

  it('fetches the JWKS once for many tokens of known keys', async () => {
    await start();
    for (let i = 0; i < 5; i++) {
      await call(jwks.token({}, {}, keyA())).expect(200);
      await call(jwks.token({}, {}, keyB())).expect(200);
    }
    expect(jwks.fetches).toBe(1);
  });

  it('bounds a storm of unknown kids by jwksRequestsPerMinute while a cached key keeps passing', async () => {
    await start();
    await call(jwks.token()).expect(200);
    const statuses: number[] = [];
    for (let round = 0; round < 10; round++) {
      const storm = Array.from({ length: 40 }, () =>
        call(jwks.token({}, { kid: randomUUID() })).then((r) => {
          statuses.push(r.status);
          expect(r.body.code).toBe('UNKNOWN_KEY');
        }),
      );
      const valid = call(jwks.token()).then((r) => statuses.push(r.status === 200 ? -200 : r.status));
      await Promise.all([...storm, valid]);
    }
    expect(statuses.filter((s) => s === -200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 401)).toHaveLength(400);
    expect(jwks.fetches).toBeLessThanOrEqual(PER_MINUTE);
    expect(jwks.fetches).toBeGreaterThan(1);
  });

  it('negatively caches an unknown kid: asking for it again costs no fetch', async () => {
    await start();
    await call(jwks.token({}, { kid: 'not-there' })).expect(401);
    const after = jwks.fetches;
    for (let i = 0; i < 10; i++) await call(jwks.token({}, { kid: 'not-there' })).expect(401);
    expect(jwks.fetches).toBe(after);
  });

  it('picks up a newly published key (rotation) with one fetch, without restart', async () => {
    await start();
    await call(jwks.token()).expect(200);
    const next = createTestKey('RS256', 'key-next');
    jwks.published.push(next);
    await call(jwks.token({}, {}, next)).expect(200);
    await call(jwks.token({}, {}, next)).expect(200);
    expect(jwks.fetches).toBe(2);
  });

  it('keeps cached keys working through a JWKS outage, past jwksCacheMaxAgeMs', async () => {
    await start({ jwksCacheMaxAgeMs: MAX_AGE_MS });
    await call(jwks.token()).expect(200);
    jwks.down = true;
    await waitPast(MAX_AGE_MS + 100);
    await call(jwks.token()).expect(200);
    expect(jwks.fetches).toBe(2); // one failed refresh attempt, then the cached set is served
    await call(jwks.token({}, {}, keyB())).expect(200);
    const unknown = await call(jwks.token({}, { kid: 'new-during-outage' }));
    expect(unknown.status).toBe(401);
    expect(unknown.body.code).toBe('UNKNOWN_KEY');
  });

  it('stops trusting the keys of a JWKS that keeps failing once jwksMaxStaleMs has passed since its last good fetch, cached tokens too, until it answers again', async () => {
    const MAX_STALE_MS = 1200;
    await start({ jwksCacheMaxAgeMs: MAX_AGE_MS, jwksMaxStaleMs: MAX_STALE_MS, verifiedCacheTtlMs: 600_000 });
    const hot = jwks.token({ sub: 'hot' });
    await call(hot).expect(200);
    const lastGoodFetch = Date.now();
    jwks.down = true; // 503 from now on

    await waitPast(MAX_AGE_MS + 100); // stale, within jwksMaxStaleMs: the outage is ridden out
    await call(jwks.token()).expect(200);
    await call(hot).expect(200);
    expect(jwks.fetches).toBe(2);

    await waitPast(lastGoodFetch + MAX_STALE_MS + 100 - Date.now());
    for (const token of [jwks.token(), hot, jwks.token({}, {}, keyB())]) {
      const refused = await call(token);
      expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 401, code: 'UNKNOWN_KEY' });
    }

    jwks.down = false; // a successful fetch (after the 5 s back-off of the failed one) trusts the keys again
    await waitPast(5100);
    await call(jwks.token()).expect(200);
    await call(hot).expect(200);
  });

  it('drops a key removed from the JWKS within jwksCacheMaxAgeMs and never re-admits it during a later outage', async () => {
    await start({ jwksCacheMaxAgeMs: MAX_AGE_MS });
    await call(jwks.token({}, {}, keyB())).expect(200);
    const removed = keyB();
    jwks.published = jwks.published.filter((k) => k.kid !== 'key-b');
    await waitPast(MAX_AGE_MS + 100);
    const refused = await call(jwks.token({}, {}, removed));
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('UNKNOWN_KEY');
    await call(jwks.token()).expect(200);

    jwks.down = true;
    await waitPast(MAX_AGE_MS + 100);
    await call(jwks.token()).expect(200);
    const stillRefused = await call(jwks.token({}, {}, removed));
    expect(stillRefused.status).toBe(401);
    expect(stillRefused.body.code).toBe('UNKNOWN_KEY');
  });

  it('refuses a token already in the verified-token cache once its key has left the JWKS, within jwksCacheMaxAgeMs', async () => {
    await start({ jwksCacheMaxAgeMs: MAX_AGE_MS, verifiedCacheTtlMs: 600_000 });
    const hot = jwks.token({ sub: 'hot' }, {}, keyB());
    const removed = keyB();
    await call(hot).expect(200);
    await call(hot).expect(200); // from the verified-token cache: no key lookup, no fetch
    expect(jwks.fetches).toBe(1);

    jwks.published = jwks.published.filter((k) => k.kid !== 'key-b');
    const removedAt = Date.now();
    await waitPast(MAX_AGE_MS + 100);
    const refused = await call(hot);
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 401, code: 'UNKNOWN_KEY' });
    expect(Date.now() - removedAt).toBeLessThan(600_000);
    expect(jwks.fetches).toBe(2);
    // Other keys' tokens still pass, and the removed key's token stays refused.
    await call(jwks.token()).expect(200);
    expect((await call(hot)).body.code).toBe('UNKNOWN_KEY');
    expect((await call(jwks.token({}, {}, removed))).body.code).toBe('UNKNOWN_KEY');
  });

  it('keeps serving a cached token whose key is still published, with one refresh per jwksCacheMaxAgeMs, and through an outage', async () => {
    await start({ jwksCacheMaxAgeMs: MAX_AGE_MS, verifiedCacheTtlMs: 600_000 });
    const hot = jwks.token({ sub: 'hot' });
    await call(hot).expect(200);
    for (let i = 0; i < 5; i++) await call(hot).expect(200);
    expect(jwks.fetches).toBe(1);
    await waitPast(MAX_AGE_MS + 100);
    for (let i = 0; i < 5; i++) await call(hot).expect(200);
    expect(jwks.fetches).toBe(2); // the stale set was refreshed once; the key is still there

    jwks.down = true;
    await waitPast(MAX_AGE_MS + 100);
    for (let i = 0; i < 5; i++) await call(hot).expect(200);
    expect(jwks.fetches).toBe(3); // one failed attempt, then the kept key serves the cache again
  });

  it('ignores JWKS entries that must not verify signatures (use enc, private members)', async () => {
    jwks = await startTestIssuer();
    const enc = createTestKey('RS256', 'enc-key');
    enc.jwk.use = 'enc';
    const priv = createTestKey('RS256', 'private-key');
    priv.jwk = { ...(priv.privateKey.export({ format: 'jwk' }) as object), kid: 'private-key', alg: 'RS256' };
    jwks.published.push(enc, priv);
    app = await createConsumerApp({
      adapter,
      mode,
      issuers: [{ issuer: jwks.issuer, audience: jwks.audience, algorithms: ['RS256'], jwksUri: jwks.jwksUri }],
    });
    await call(jwks.token()).expect(200);
    expect((await call(jwks.token({}, {}, enc))).body.code).toBe('UNKNOWN_KEY');
    expect((await call(jwks.token({}, {}, priv))).body.code).toBe('UNKNOWN_KEY');
  });
});
