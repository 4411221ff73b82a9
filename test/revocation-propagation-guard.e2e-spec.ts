import { generateKeyPairSync } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { tesseraIntrospection } from '@tessera/nest-guard';
import { createConsumerApp } from '../examples/consumer/create-consumer-app';
import { signJwt } from '../examples/consumer/test-issuer';
import { freePort } from './utils/process';
import { startTestApp, TestApp } from './utils/test-app';

/**
 * The guard module's revocation path sees a deleted registered key within its documented
 * cache time (`tesseraIntrospection`'s cacheTtlMs): a guard-protected consumer verifies the
 * tenant's tokens with the tenant JWKS (cached far longer, so only introspection can refuse)
 * and asks Tessera's introspection over HTTP whether each is still active.
 */
const INTROSPECTION_CACHE_TTL_MS = 1000;
const now = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('guard revocation path (tesseraIntrospection) and a deleted registered key (e2e)', () => {
  let t: TestApp;
  let consumer: INestApplication;
  let tessera: string;
  let tenant: { id: string; apiKey: { 'x-api-key': string } };
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let kid: string;

  const token = (sub: string) =>
    signJwt(
      { alg: 'RS256', kid, typ: 'JWT' },
      { iss: tenant.id, sub, aud: tessera, iat: now(), exp: now() + 300, scope: 'read' },
      pair.privateKey,
    );
  const guarded = (jwt: string) => request(consumer.getHttpServer()).get('/guarded').set('authorization', `Bearer ${jwt}`);

  beforeAll(async () => {
    const port = await freePort();
    tessera = `http://127.0.0.1:${port}`;
    t = await startTestApp({ env: { PUBLIC_URL: tessera } });
    await t.tessera.app.listen({ port, host: '127.0.0.1' });
    const created = await t.http.post('/v1/tenants').set('x-api-key', t.adminKey).send({ name: 'guard-revocation' }).expect(201);
    const key = await t.http.post(`/v1/tenants/${created.body.id}/api-keys`).set('x-api-key', t.adminKey).send({}).expect(201);
    tenant = { id: created.body.id, apiKey: { 'x-api-key': key.body.key } };
    const registered = await t.http
      .post(`/v1/tenants/${tenant.id}/jwt-keys`)
      .set(tenant.apiKey)
      .send({ label: 'backend', algorithm: 'RS256', publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }) })
      .expect(201);
    kid = registered.body.kid;

    consumer = await createConsumerApp({
      adapter: 'fastify',
      issuers: [
        {
          issuer: tenant.id,
          audience: tessera,
          algorithms: ['RS256'],
          jwksUri: `${tessera}/v1/tenants/${tenant.id}/jwks.json`,
          requiredTyp: false,
          // The consumer keeps the deleted key in its JWKS cache: only the revocation check can refuse.
          jwksCacheMaxAgeMs: 600_000,
          revocation: tesseraIntrospection(
            { url: `${tessera}/oauth/introspect`, apiKey: tenant.apiKey['x-api-key'] },
            { cacheTtlMs: INTROSPECTION_CACHE_TTL_MS },
          ),
        },
      ],
    });
  });
  afterAll(async () => {
    await consumer?.close();
    await t?.close();
  });

  it('refuses a token of the deleted key at once when the guard has no cached answer, and every one after cacheTtlMs', async () => {
    const seen = token('seen-before');
    await guarded(seen).expect(200);
    const answeredAt = Date.now();

    await t.http.delete(`/v1/tenants/${tenant.id}/jwt-keys/${kid}`).set(tenant.apiKey).expect(204);
    // Tessera itself refuses the key from the next request on: a token the guard never saw is refused at once.
    const unseen = await guarded(token('never-seen')).expect(401);
    expect(unseen.body).toMatchObject({ statusCode: 401, code: 'TOKEN_REVOKED' });

    // The guard's answer for the first token lives cacheTtlMs; after that it asks again and is refused.
    await sleep(Math.max(0, answeredAt + INTROSPECTION_CACHE_TTL_MS + 50 - Date.now()));
    const refused = await guarded(seen).expect(401);
    expect(refused.body).toMatchObject({ statusCode: 401, code: 'TOKEN_REVOKED' });
  });
});
