import { request as httpRequest } from 'node:http';
import { AddressInfo } from 'node:net';
import { RunningNginx, startNginx } from './utils/nginx';
import { startTestApp, TestApp } from './utils/test-app';

/**
 * TRUST_PROXY through a real nginx that appends to X-Forwarded-For ($proxy_add_x_forwarded_for,
 * as most proxies do): the client's own entries stay on the left. A client rotating them on
 * wrong credentials must still reach 429 from the failed-credential limiter.
 *
 * The clients connect from 127.0.0.2 and 127.0.0.3 (Linux answers on all of 127/8), so nginx,
 * at 127.0.0.1, is the only proxy and each client has an address of its own.
 */
const LIMIT = 5;
/** RATE_LIMIT_PUBLIC_PER_IP: the throttler's per-IP limit uses the same request.ip. */
const PUBLIC_LIMIT = 10;
const ATTACKER = '127.0.0.2';
const BYSTANDER = '127.0.0.3';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

function send(port: number, localAddress: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', localAddress, headers },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += String(chunk)));
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function behindNginx(trustProxy: string): Promise<{ t: TestApp; nginx: RunningNginx; close(): Promise<void> }> {
  const t = await startTestApp({
    env: { TRUST_PROXY: trustProxy, RATE_LIMIT_CREDENTIALS_PER_IP: String(LIMIT), RATE_LIMIT_PUBLIC_PER_IP: String(PUBLIC_LIMIT) },
  });
  await t.tessera.app.listen(0, '127.0.0.1');
  const port = (t.tessera.app.getHttpServer().address() as AddressInfo).port;
  const nginx = await startNginx(
    (listen) => `server {
    listen 127.0.0.1:${listen};
    location / {
      proxy_pass http://127.0.0.1:${port};
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }`,
  );
  return {
    t,
    nginx,
    close: async () => {
      await nginx.stop();
      await t.close();
    },
  };
}

/** Wrong API keys, each with another forged X-Forwarded-For; the statuses in order. */
async function rotateWrongApiKeys(nginx: RunningNginx, attempts: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < attempts; i++) {
    const res = await send(nginx.port, ATTACKER, '/v1/tenants', { 'x-api-key': `tk_wrong${i}`, 'x-forwarded-for': `203.0.113.${i + 1}` });
    statuses.push(res.status);
  }
  return statuses;
}

/** A public document (the per-IP request limit, not the credential one), rotating X-Forwarded-For. */
async function rotatePublicRequests(nginx: RunningNginx, attempts: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < attempts; i++)
    statuses.push((await send(nginx.port, ATTACKER, '/.well-known/jwks.json', { 'x-forwarded-for': `192.0.2.${i + 1}` })).status);
  return statuses;
}

/** Wrong client secrets (client_credentials, client_secret_post) of a real client, rotating X-Forwarded-For. */
async function rotateWrongSecrets(t: TestApp, nginx: RunningNginx, attempts: number): Promise<number[]> {
  const tenant = await t.http
    .post('/v1/tenants')
    .set('x-api-key', t.adminKey)
    .send({ name: `tp-${Date.now()}` })
    .expect(201);
  const key = await t.http
    .post(`/v1/tenants/${tenant.body.id}/api-keys`)
    .set('x-api-key', t.adminKey)
    .send({ label: 'backend' })
    .expect(201);
  const client = await t.http
    .post(`/v1/tenants/${tenant.body.id}/clients`)
    .set('x-api-key', key.body.key)
    .send({ name: 'svc', scopes: ['read'] })
    .expect(201);
  const statuses: number[] = [];
  for (let i = 0; i < attempts; i++) {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: client.body.clientId,
      client_secret: `wrong-${i}`,
    }).toString();
    const res = await send(
      nginx.port,
      ATTACKER,
      '/oauth/token',
      { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `198.51.100.${i + 1}, 10.0.0.${i + 1}` },
      form,
    );
    statuses.push(res.status);
  }
  return statuses;
}

describe.each([
  ['a hop count', '1'],
  ['the proxy’s address', '127.0.0.1'],
])('TRUST_PROXY as %s (%s), behind nginx appending X-Forwarded-For (e2e)', (_name, trustProxy) => {
  let app: Awaited<ReturnType<typeof behindNginx>>;
  beforeAll(async () => {
    app = await behindNginx(trustProxy);
  });
  afterAll(() => app?.close());

  it('reaches 429 for a client rotating X-Forwarded-For on wrong API keys, and for it only', async () => {
    const statuses = await rotateWrongApiKeys(app.nginx, LIMIT + 2);
    expect(statuses).toEqual([...Array(LIMIT).fill(401), 429, 429]);
    const blocked = await send(app.nginx.port, ATTACKER, '/v1/tenants', { 'x-api-key': 'tk_again', 'x-forwarded-for': '192.0.2.77' });
    expect(blocked.body).toMatchObject({
      statusCode: 429,
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/^Too many failed authentication attempts/),
    });
    // Another client behind the same nginx has its own count: the IP is the client's, not the proxy's.
    expect((await send(app.nginx.port, BYSTANDER, '/v1/tenants', { 'x-api-key': 'tk_wrong' })).status).toBe(401);
    // Even the admin key is refused from the blocked address until the window ends (a right guess gains nothing).
    expect(
      (await send(app.nginx.port, ATTACKER, '/v1/tenants', { 'x-api-key': app.t.adminKey, 'x-forwarded-for': '192.0.2.78' })).status,
    ).toBe(429);
    expect((await send(app.nginx.port, BYSTANDER, '/v1/tenants', { 'x-api-key': app.t.adminKey })).status).toBe(200);
  });

  it('applies the per-IP request limit to the real client too', async () => {
    expect(await rotatePublicRequests(app.nginx, PUBLIC_LIMIT + 1)).toEqual([...Array(PUBLIC_LIMIT).fill(200), 429]);
    expect((await send(app.nginx.port, BYSTANDER, '/.well-known/jwks.json', {})).status).toBe(200);
  });
});

describe('TRUST_PROXY=1 and client secrets, behind nginx (e2e)', () => {
  let app: Awaited<ReturnType<typeof behindNginx>>;
  beforeAll(async () => {
    app = await behindNginx('1');
  });
  afterAll(() => app?.close());

  it('reaches 429 for a client rotating X-Forwarded-For on wrong client secrets', async () => {
    expect(await rotateWrongSecrets(app.t, app.nginx, LIMIT + 1)).toEqual([...Array(LIMIT).fill(401), 429]);
  });
});

// The behaviour before docs/adr/0009, kept as the documented hazard of TRUST_PROXY=true: the left-most
// entry is believed, the client writes it, and the limiter never sees the same IP twice.
describe('TRUST_PROXY=true behind nginx appending X-Forwarded-For (e2e)', () => {
  let app: Awaited<ReturnType<typeof behindNginx>>;
  beforeAll(async () => {
    app = await behindNginx('true');
  });
  afterAll(() => app?.close());

  it('never reaches 429 for a client rotating X-Forwarded-For: why true is unsafe with an appending proxy', async () => {
    expect(await rotateWrongApiKeys(app.nginx, LIMIT + 2)).toEqual(Array(LIMIT + 2).fill(401));
    expect(await rotatePublicRequests(app.nginx, PUBLIC_LIMIT + 1)).toEqual(Array(PUBLIC_LIMIT + 1).fill(200));
  });
});
