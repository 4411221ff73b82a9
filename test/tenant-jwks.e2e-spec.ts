import { ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { signJwt } from '../examples/consumer/test-issuer';
import { freePort, waitFor } from './utils/process';
import { startTestApp, TestApp } from './utils/test-app';

/**
 * Issue 17.3: a disabled or deleted tenant's public JWKS is empty (200 `{"keys": []}`, not
 * 404: the guard keeps its cached keys through a failed fetch, so only an empty document makes
 * it drop them), and the example consumer configured as its README says (TENANT_IDS, keys from
 * $TESSERA_URL/v1/tenants/<id>/jwks.json) refuses a fresh token of that tenant once its JWKS
 * cache time has passed. Tessera and the consumer are two processes talking HTTP.
 */
const ROOT = join(__dirname, '..');
const TENANT_MAX_AGE_MS = 1000;
const now = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Tenant {
  id: string;
  kid: string;
  privateKey: KeyObject;
}

describe('tenant JWKS of a disabled or deleted tenant (e2e, with examples/consumer)', () => {
  let t: TestApp;
  let tessera: string;
  let consumer: { url: string; child: ChildProcess; output(): string; exited: Promise<number | null> } | undefined;
  const admin = () => ({ 'x-api-key': t.adminKey });
  const tenants: Record<'disabled' | 'deleted' | 'live', Tenant> = {} as never;

  async function createTenantWithKey(name: string): Promise<Tenant> {
    const created = await t.http.post('/v1/tenants').set(admin()).send({ name }).expect(201);
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const reg = await t.http
      .post(`/v1/tenants/${created.body.id}/jwt-keys`)
      .set(admin())
      .send({ label: 'backend', algorithm: 'RS256', publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }) })
      .expect(201);
    return { id: created.body.id, kid: reg.body.kid, privateKey: pair.privateKey };
  }

  /** A token the tenant's backend signs now: a fresh one each call, so no verified-token cache can answer it. */
  function freshToken(tenant: Tenant): string {
    const iat = now();
    return signJwt(
      { alg: 'RS256', kid: tenant.kid, typ: 'JWT' },
      { iss: tenant.id, sub: 'backend-user', aud: tessera, iat, exp: iat + 300, scope: 'read', jti: `${Date.now()}-${Math.random()}` },
      tenant.privateKey,
    );
  }

  async function guarded(token: string): Promise<{ status: number; code?: string }> {
    const res = await fetch(`${consumer!.url}/guarded`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { code?: string };
    return { status: res.status, code: body.code };
  }

  beforeAll(async () => {
    const port = await freePort();
    tessera = `http://127.0.0.1:${port}`;
    t = await startTestApp({ env: { PUBLIC_URL: tessera } });
    await t.tessera.app.listen({ port, host: '127.0.0.1' });
    tenants.disabled = await createTenantWithKey('jwks-disabled');
    tenants.deleted = await createTenantWithKey('jwks-deleted');
    tenants.live = await createTenantWithKey('jwks-live');

    const consumerPort = await freePort();
    const child = spawn(process.execPath, ['-r', './examples/consumer/swc-register.cjs', 'examples/consumer/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_NO_WARNINGS: '1',
        HOST: '127.0.0.1',
        PORT: String(consumerPort),
        TESSERA_URL: tessera,
        TENANT_IDS: Object.values(tenants)
          .map((x) => x.id)
          .join(','),
        TENANT_JWKS_CACHE_MAX_AGE_MS: String(TENANT_MAX_AGE_MS),
        JWKS_REQUESTS_PER_MINUTE: '60',
        VERIFIED_CACHE_TTL_MS: '500',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += String(d)));
    child.stderr!.on('data', (d) => (out += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    consumer = { url: `http://127.0.0.1:${consumerPort}`, child, output: () => out, exited };
    await waitFor(() => out.includes('Consumer listening') || child.exitCode !== null, 30_000, 'the consumer to listen');
    if (!out.includes('Consumer listening')) throw new Error(`The consumer did not start:\n${out}`);
  });

  afterAll(async () => {
    if (consumer && consumer.child.exitCode === null) {
      consumer.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const stopped = await Promise.race([
        consumer.exited.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 5000))),
      ]);
      clearTimeout(timer);
      if (!stopped) consumer.child.kill('SIGKILL');
    }
    await t?.close();
  });

  it('answers an empty JWKS for a disabled or deleted tenant at once, the keys again once re-enabled, and 404 only for an id that never was a tenant', async () => {
    const tenant = await createTenantWithKey('jwks-shape');
    const jwks = () => t.http.get(`/v1/tenants/${tenant.id}/jwks.json`).expect(200);
    expect((await jwks()).body.keys.map((k: { kid: string }) => k.kid)).toEqual([tenant.kid]);

    await t.http.patch(`/v1/tenants/${tenant.id}`).set(admin()).send({ disabled: true }).expect(200);
    const empty = await jwks();
    expect(empty.body).toEqual({ keys: [] });
    expect(empty.headers['cache-control']).toBe('public, max-age=60');

    await t.http.patch(`/v1/tenants/${tenant.id}`).set(admin()).send({ disabled: false }).expect(200);
    expect((await jwks()).body.keys.map((k: { kid: string }) => k.kid)).toEqual([tenant.kid]);

    await t.http.delete(`/v1/tenants/${tenant.id}`).set(admin()).expect(204);
    expect((await jwks()).body).toEqual({ keys: [] });
    await t.http.get('/v1/tenants/00000000-0000-4000-8000-000000000000/jwks.json').expect(404);
  });

  it('makes the consumer refuse a fresh token of a disabled tenant after the guard’s JWKS cache time, and of a deleted one', async () => {
    for (const tenant of Object.values(tenants)) expect(await guarded(freshToken(tenant))).toEqual({ status: 200, code: undefined });

    await t.http.patch(`/v1/tenants/${tenants.disabled.id}`).set(admin()).send({ disabled: true }).expect(200);
    await t.http.delete(`/v1/tenants/${tenants.deleted.id}`).set(admin()).expect(204);
    // Past the tenant issuers' jwksCacheMaxAgeMs the guard fetches again and finds no key.
    await sleep(TENANT_MAX_AGE_MS + 500);

    expect(await guarded(freshToken(tenants.disabled))).toEqual({ status: 401, code: 'UNKNOWN_KEY' });
    expect(await guarded(freshToken(tenants.deleted))).toEqual({ status: 401, code: 'UNKNOWN_KEY' });
    expect(await guarded(freshToken(tenants.live))).toEqual({ status: 200, code: undefined });
    // And it stays that way (the empty document is not a fetch failure that would keep old keys).
    await sleep(TENANT_MAX_AGE_MS + 200);
    expect(await guarded(freshToken(tenants.disabled))).toEqual({ status: 401, code: 'UNKNOWN_KEY' });
  });
});
