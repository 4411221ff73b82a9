import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { JwtIssuerOptions } from '@tessera/nest-guard';
import { tenantIssuer, tesseraIssuer } from '../examples/consumer/consumer-issuers';
import { createConsumerApp } from '../examples/consumer/create-consumer-app';
import { freePort } from './utils/process';
import { startTestApp, TestApp } from './utils/test-app';
import { createTenant, registerKey, TestRegisteredKey, TestTenant } from './utils/verification-fixtures';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const now = () => Math.floor(Date.now() / 1000);

/**
 * docs/adr/0014, the guard's half: a jwt-bearer assertion (aud naming Tessera's token endpoint)
 * is never a bearer token for a consumer either. The consumer trusts a tenant's registered keys
 * the way examples/consumer and the README set it up (issuer = the tenant id, keys from Tessera's
 * tenant JWKS over HTTP, audience = PUBLIC_URL); the assertion's aud also holds PUBLIC_URL, so
 * before `forbiddenAudiences` the guard answered 200. Both integrations (the fast path and the
 * passport strategy), both adapters; also with the issuer options left at their defaults.
 */
const MATRIX = (['fastify', 'express'] as const).flatMap((adapter) =>
  (['fast', 'passport'] as const).map((mode) => [adapter, mode] as const),
);

describe('guard: jwt-bearer assertions are not bearer tokens (e2e, real Tessera JWKS)', () => {
  let t: TestApp;
  let tessera: string;
  let tenant: TestTenant;
  let key: TestRegisteredKey;

  beforeAll(async () => {
    const port = await freePort();
    tessera = `http://127.0.0.1:${port}`;
    t = await startTestApp({ env: { PUBLIC_URL: tessera } });
    await t.tessera.app.listen({ port, host: '127.0.0.1' });
    tenant = await createTenant(t, 'guard-assertion-audience');
    key = await registerKey(t, tenant);
  });
  afterAll(async () => {
    await t?.close();
  });

  const sign = (aud: unknown) =>
    key.sign({ iss: tenant.id, sub: 'user-1', aud, scope: 'read', jti: randomUUID(), iat: now(), exp: now() + 300 });
  const assertion = () => sign([`${tessera}/oauth/token`, tessera]);

  describe.each(MATRIX)('on %s, %s path', (adapter, mode) => {
    const apps: Record<'example' | 'defaults' | 'optedOut', INestApplication> = {} as never;
    const bareTenantIssuer = (over: Partial<JwtIssuerOptions> = {}): JwtIssuerOptions => ({
      issuer: tenant.id,
      audience: tessera,
      algorithms: ['RS256'],
      jwksUri: `${tessera}/v1/tenants/${tenant.id}/jwks.json`,
      requiredTyp: false,
      ...over,
    });

    beforeAll(async () => {
      apps.example = await createConsumerApp({
        adapter,
        mode,
        issuers: [tesseraIssuer(tessera, tessera), tenantIssuer(tessera, tenant.id, tessera)],
      });
      apps.defaults = await createConsumerApp({ adapter, mode, issuers: [bareTenantIssuer()] });
      apps.optedOut = await createConsumerApp({ adapter, mode, issuers: [bareTenantIssuer({ forbiddenAudiences: [] })] });
    });
    afterAll(async () => {
      for (const app of Object.values(apps)) await app?.close();
    });

    const guarded = (app: INestApplication, token: string) =>
      request(app.getHttpServer()).get('/guarded').set('authorization', `Bearer ${token}`);

    it("accepts the tenant's bearer token (aud = PUBLIC_URL)", async () => {
      for (const app of [apps.example, apps.defaults]) await guarded(app, sign(tessera)).expect(200);
    });

    it('refuses an assertion whose aud is [PUBLIC_URL/oauth/token, PUBLIC_URL] with 401 INVALID_AUDIENCE (example set-up and defaults)', async () => {
      for (const app of [apps.example, apps.defaults]) {
        for (const token of [assertion(), sign([tessera, `${tessera}/oauth/token`])]) {
          const res = await guarded(app, token);
          expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'INVALID_AUDIENCE' });
          expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
        }
      }
      // Opting out (forbiddenAudiences: []) is the behaviour before the rule: the same token passed.
      await guarded(apps.optedOut, assertion()).expect(200);
    });

    it('refuses it from the verified-token cache too: a token first refused is never cached as accepted', async () => {
      const token = assertion();
      for (let i = 0; i < 3; i++) expect((await guarded(apps.example, token)).body.code).toBe('INVALID_AUDIENCE');
    });
  });

  it('the refused token is a real assertion (Tessera exchanges it), and the access token it buys passes the guard', async () => {
    const token = assertion();
    const apps = await Promise.all(
      (['fast', 'passport'] as const).map((mode) =>
        createConsumerApp({
          adapter: 'fastify',
          mode,
          issuers: [tesseraIssuer(tessera, tessera), tenantIssuer(tessera, tenant.id, tessera)],
        }),
      ),
    );
    try {
      for (const app of apps)
        expect((await request(app.getHttpServer()).get('/guarded').set('authorization', `Bearer ${token}`)).body.code).toBe(
          'INVALID_AUDIENCE',
        );
      const exchanged = await t.http.post('/oauth/token').type('form').send({ grant_type: JWT_BEARER, assertion: token }).expect(200);
      for (const app of apps)
        await request(app.getHttpServer()).get('/guarded').set('authorization', `Bearer ${exchanged.body.access_token}`).expect(200);
    } finally {
      for (const app of apps) await app.close();
    }
  });
});
