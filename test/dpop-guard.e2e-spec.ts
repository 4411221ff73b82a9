import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { SignJWT } from 'jose';
import { accessTokenHash, DpopSenderConstraint } from '@tessera/nest-guard';
import { createConsumerApp } from '../examples/consumer/create-consumer-app';
import { freePort } from './utils/process';
import { startTestApp, TestApp } from './utils/test-app';

/**
 * The guard package's DPoP check in a consumer service (examples/consumer's app) trusting a real
 * Tessera over its JWKS, on both HTTP adapters and both integrations (the `@Auth()` fast path and
 * the passport strategy): htu is rebuilt from the request's own protocol and Host (no `origin`).
 */
describe.each([
  { adapter: 'fastify' as const, mode: 'fast' as const },
  { adapter: 'fastify' as const, mode: 'passport' as const },
  { adapter: 'express' as const, mode: 'fast' as const },
  { adapter: 'express' as const, mode: 'passport' as const },
])('DPoP in the guard (e2e, $adapter, $mode)', ({ adapter, mode }) => {
  let t: TestApp;
  let consumer: INestApplication;
  let base: string;
  let consumerUrl: string;
  let token: string;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });

  const proof = (htm: string, htu: string, at?: string) =>
    new SignJWT({
      htm,
      htu,
      jti: randomBytes(12).toString('base64url'),
      iat: Math.floor(Date.now() / 1000),
      ...(at ? { ath: accessTokenHash(at) } : {}),
    })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk } as never)
      .sign(privateKey);

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    t = await startTestApp({ env: { PUBLIC_URL: base } });
    await t.tessera.app.listen({ port, host: '127.0.0.1' });
    consumer = await createConsumerApp({
      adapter,
      mode,
      senderConstraint: new DpopSenderConstraint(),
      issuers: [{ issuer: base, audience: base, algorithms: ['RS256'], jwksUri: `${base}/.well-known/jwks.json` }],
    });
    const consumerPort = await freePort();
    await consumer.listen(consumerPort, '127.0.0.1');
    consumerUrl = `http://127.0.0.1:${consumerPort}`;
    const tenant = (await t.http.post('/v1/tenants').set({ 'x-api-key': t.adminKey }).send({ name: 'g' }).expect(201)).body;
    const issued = await t.http
      .post(`/v1/tenants/${tenant.id}/tokens`)
      .set({ 'x-api-key': t.adminKey, dpop: await proof('POST', `${base}/v1/tenants/${tenant.id}/tokens`) })
      .send({ sub: 'user-g', scope: 'read', refreshToken: false })
      .expect(201);
    token = issued.body.access_token;
  });
  afterAll(async () => {
    await consumer?.close();
    await t?.close();
  });

  const guarded = (authorization: string, dpop?: string) =>
    fetch(`${consumerUrl}/guarded?x=1`, { headers: { authorization, ...(dpop ? { dpop } : {}) } });

  it('accepts the bound token with a proof of this request, and refuses it as Bearer or with a bad proof', async () => {
    const ok = await guarded(`DPoP ${token}`, await proof('GET', `${consumerUrl}/guarded`, token));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ sub: 'user-g' });

    const asBearer = await guarded(`Bearer ${token}`);
    expect(asBearer.status).toBe(401);
    expect(((await asBearer.json()) as { code: string }).code).toBe('INVALID_TOKEN_TYPE');
    expect(asBearer.headers.get('www-authenticate')).toMatch(/^DPoP algs="/);

    const wrongUrl = await guarded(`DPoP ${token}`, await proof('GET', `${consumerUrl}/other`, token));
    expect(wrongUrl.status).toBe(401);
    expect(((await wrongUrl.json()) as { code: string }).code).toBe('INVALID_DPOP_PROOF');
    expect(wrongUrl.headers.get('www-authenticate')).toMatch(/error="invalid_dpop_proof"/);

    const p = await proof('GET', `${consumerUrl}/guarded`, token);
    expect((await guarded(`DPoP ${token}`, p)).status).toBe(200);
    const replay = await guarded(`DPoP ${token}`, p);
    expect(((await replay.json()) as { code: string }).code).toBe('INVALID_DPOP_PROOF');
  });
});
