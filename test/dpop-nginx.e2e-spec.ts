import { generateKeyPairSync, KeyObject, randomBytes } from 'node:crypto';
import { createServer, IncomingHttpHeaders, request as httpRequest, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { accessTokenHash } from '@tessera/nest-guard';
import { readmeNginxSnippet, startNginx } from './utils/nginx';
import { freePort } from './utils/process';
import { startTestApp, TestApp } from './utils/test-app';

/**
 * DPoP behind a real nginx running README.md's auth_request snippet verbatim: the subrequest
 * inherits the client's Authorization and DPoP headers, and Tessera judges the proof against the
 * request nginx received (X-Original-Method, X-Forwarded-Proto://X-Forwarded-Host + the path of
 * X-Original-URI). The client addresses nginx as http://api.example.com (Host header), as it would
 * on port 80 in production.
 */
describe('DPoP behind nginx auth_request (e2e)', () => {
  let t: TestApp;
  let base: string;
  let upstream: Server;
  let seen: IncomingHttpHeaders[];
  let nginx: Awaited<ReturnType<typeof startNginx>>;
  let privateKey: KeyObject;
  let jwk: Record<string, unknown>;
  let accessToken: string;
  const HOST = 'api.example.com';

  const proof = (htm: string, htu: string, token?: string) =>
    new SignJWT({
      htm,
      htu,
      jti: randomBytes(12).toString('base64url'),
      iat: Math.floor(Date.now() / 1000),
      ...(token ? { ath: accessTokenHash(token) } : {}),
    })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk } as never)
      .sign(privateKey);

  /** A request to nginx with Host: api.example.com (fetch cannot set Host). */
  const viaNginx = (method: string, path: string, headers: Record<string, string>) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: nginx.port, method, path, headers: { host: HOST, ...headers } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    t = await startTestApp({ env: { PUBLIC_URL: base } });
    await t.tessera.app.listen({ port, host: '127.0.0.1' });
    seen = [];
    upstream = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('upstream');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const snippet = readmeNginxSnippet('forward-auth-nginx', {
      'http://tessera:3000': base,
      'http://app': `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    });
    nginx = await startNginx((p) => `server {\n    listen 127.0.0.1:${p};\n${snippet}\n  }`);

    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    privateKey = pair.privateKey;
    jwk = pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
    const tenant = (await t.http.post('/v1/tenants').set({ 'x-api-key': t.adminKey }).send({ name: 'dpop-nginx' }).expect(201)).body;
    const url = `${base}/v1/tenants/${tenant.id}/tokens`;
    const issued = await t.http
      .post(`/v1/tenants/${tenant.id}/tokens`)
      .set({ 'x-api-key': t.adminKey, dpop: await proof('POST', url) })
      .send({ sub: 'user-dpop', refreshToken: false })
      .expect(201);
    expect(issued.body.token_type).toBe('DPoP');
    accessToken = issued.body.access_token;
  });
  afterAll(async () => {
    await nginx?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
    await t?.close();
  });

  it('lets a bound token with a proof for the URL nginx received through, and refuses it as Bearer', async () => {
    const passed = await viaNginx('DELETE', '/orders/1?force=1', {
      authorization: `DPoP ${accessToken}`,
      dpop: await proof('DELETE', `http://${HOST}/orders/1`, accessToken),
    });
    expect({ status: passed.status, body: passed.body }).toEqual({ status: 200, body: 'upstream' });
    expect(seen.at(-1)).toMatchObject({ 'x-user-id': 'user-dpop' });

    const count = seen.length;
    const asBearer = await viaNginx('GET', '/orders/1', { authorization: `Bearer ${accessToken}` });
    expect(asBearer.status).toBe(401);
    // A proof made for Tessera's own URL, or for another method, does not pass nginx.
    const otherUrl = await viaNginx('GET', '/orders/1', {
      authorization: `DPoP ${accessToken}`,
      dpop: await proof('GET', `${base}/orders/1`, accessToken),
    });
    expect(otherUrl.status).toBe(401);
    const otherMethod = await viaNginx('GET', '/orders/1', {
      authorization: `DPoP ${accessToken}`,
      dpop: await proof('POST', `http://${HOST}/orders/1`, accessToken),
    });
    expect(otherMethod.status).toBe(401);
    // The client's own X-Forwarded-Host is overwritten by the snippet: it cannot choose the URL its proof is judged against.
    const spoofed = await viaNginx('GET', '/orders/1', {
      authorization: `DPoP ${accessToken}`,
      'x-forwarded-host': 'evil.example.com',
      dpop: await proof('GET', 'http://evil.example.com/orders/1', accessToken),
    });
    expect(spoofed.status).toBe(401);
    // A replayed proof is refused even for the very same request.
    const once = await proof('GET', `http://${HOST}/orders/2`, accessToken);
    expect((await viaNginx('GET', '/orders/2', { authorization: `DPoP ${accessToken}`, dpop: once })).status).toBe(200);
    expect((await viaNginx('GET', '/orders/2', { authorization: `DPoP ${accessToken}`, dpop: once })).status).toBe(401);
    expect(seen).toHaveLength(count + 1);
    expect(nginx.errorLog()).not.toMatch(/\[(error|crit|emerg)\]/);
  });
});
