import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, RunningProcess, runMain, waitFor } from './utils/process';
import { createTestDatabase } from './utils/test-app';
import { signTestJwt } from './utils/test-jwt';
import { ampersandClaims } from './utils/verification-fixtures';

/**
 * Two `node dist/main.js` processes on one database: every change is made through replica A's
 * HTTP API, and replica B (another OS process) is polled over HTTP until it refuses. The
 * delays are printed. Registered keys are cached 5 s per replica, so only NOTIFY can bring
 * that one under a second (test/revocation-propagation.e2e-spec.ts shows the same for every
 * kind with B's clock stopped).
 */
interface Replica {
  url: string;
  process: RunningProcess;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('revocation across two Tessera processes (e2e)', () => {
  let drop: () => Promise<void>;
  const replicas: Replica[] = [];
  const adminKey = `admin_${randomBytes(24).toString('base64url')}`;
  const delays: string[] = [];

  async function start(databaseUrl: string, env: Record<string, string>): Promise<Replica> {
    const port = await freePort();
    const replica = {
      url: `http://127.0.0.1:${port}`,
      process: runMain({
        ...env,
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: mkdtempSync(join(tmpdir(), 'tessera-propagation-')),
      }),
    };
    replicas.push(replica);
    await waitFor(
      async () =>
        (await fetch(`${replica.url}/health/ready`).catch(() => undefined))?.status === 200 || replica.process.child.exitCode !== null,
      30_000,
      'a replica to be ready',
    );
    if (replica.process.child.exitCode !== null) throw new Error(`The replica did not start:\n${replica.process.output()}`);
    return replica;
  }

  beforeAll(async () => {
    const db = await createTestDatabase();
    drop = db.drop;
    const env = {
      ADMIN_API_KEY: adminKey,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      PUBLIC_URL: 'https://tessera.test',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_IP: '0',
      RATE_LIMIT_PER_API_KEY: '0',
      RATE_LIMIT_PUBLIC_PER_IP: '0',
      RATE_LIMIT_CREDENTIALS_PER_IP: '0',
    };
    // One after the other: the first applies the migrations.
    await start(db.url, env);
    await start(db.url, env);
  }, 90_000);

  afterAll(async () => {
    if (delays.length > 0) console.log(`revocation reached the other process after:\n${delays.join('\n')}`);
    for (const r of replicas) {
      if (r.process.child.exitCode !== null) continue;
      r.process.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([r.process.exited, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
      clearTimeout(timer);
      if (r.process.child.exitCode === null) r.process.child.kill('SIGKILL');
    }
    await drop?.();
  });

  async function call(
    replica: Replica,
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string | object,
  ): Promise<{ status: number; body: any }> {
    const form = typeof body === 'string';
    const res = await fetch(`${replica.url}${path}`, {
      method,
      headers: {
        ...headers,
        ...(body === undefined ? {} : { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' }),
      },
      body: body === undefined ? undefined : form ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async function subject(a: Replica) {
    const admin = { 'x-api-key': adminKey };
    const tenant = (await call(a, 'POST', '/v1/tenants', admin, { name: `processes-${randomBytes(4).toString('hex')}` })).body;
    const apiKey = (await call(a, 'POST', `/v1/tenants/${tenant.id}/api-keys`, admin, {})).body;
    const key = { 'x-api-key': apiKey.key as string };
    const client = (await call(a, 'POST', `/v1/tenants/${tenant.id}/clients`, key, { name: 'worker', scopes: ['read'] })).body;
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const registered = await call(a, 'POST', `/v1/tenants/${tenant.id}/jwt-keys`, key, { label: 'k', algorithm: 'ES256', publicKeyPem });
    expect(registered.status).toBe(201);
    const kid = registered.body.kid as string;
    const token = signTestJwt({ alg: 'ES256', typ: 'JWT', kid }, ampersandClaims(), pair.privateKey, 'ES256');
    return { tenantId: tenant.id as string, apiKeyId: apiKey.id as string, key, client, kid, token };
  }
  type Subject = Awaited<ReturnType<typeof subject>>;

  const refusedBy: Record<string, (b: Replica, s: Subject) => Promise<boolean>> = {
    apiKey: async (b, s) => (await call(b, 'GET', `/v1/tenants/${s.tenantId}`, s.key)).status !== 200,
    client: async (b, s) => {
      const basic = Buffer.from(`${s.client.clientId}:${s.client.clientSecret}`).toString('base64');
      return (await call(b, 'POST', '/oauth/token', { authorization: `Basic ${basic}` }, 'grant_type=client_credentials')).status !== 200;
    },
    registeredKey: async (b, s) =>
      (await call(b, 'POST', '/oauth/introspect', s.key, new URLSearchParams({ token: s.token }).toString())).body?.active === false,
  };

  const KINDS: Array<{
    name: string;
    change: (a: Replica, s: Subject) => Promise<number>;
    probe: (b: Replica, s: Subject) => Promise<boolean>;
  }> = [
    {
      name: 'registered key deleted',
      change: async (a, s) => (await call(a, 'DELETE', `/v1/tenants/${s.tenantId}/jwt-keys/${s.kid}`, s.key)).status,
      probe: refusedBy.registeredKey,
    },
    {
      name: 'client deleted',
      change: async (a, s) => (await call(a, 'DELETE', `/v1/tenants/${s.tenantId}/clients/${s.client.clientId}`, s.key)).status,
      probe: refusedBy.client,
    },
    {
      name: 'API key deleted',
      change: async (a, s) =>
        (await call(a, 'DELETE', `/v1/tenants/${s.tenantId}/api-keys/${s.apiKeyId}`, { 'x-api-key': adminKey })).status,
      probe: refusedBy.apiKey,
    },
    {
      name: 'tenant disabled',
      change: async (a, s) => (await call(a, 'PATCH', `/v1/tenants/${s.tenantId}`, { 'x-api-key': adminKey }, { disabled: true })).status,
      probe: refusedBy.apiKey,
    },
  ];

  it.each(KINDS.map((k) => [k.name, k] as const))('%s on replica A is refused by replica B within 1 s', async (_name, kind) => {
    const [a, b] = replicas;
    const s = await subject(a);
    // B uses the credential and the key first, so they sit in its caches.
    expect(await kind.probe(b, s)).toBe(false);
    expect([200, 204]).toContain(await kind.change(a, s));
    const changedAt = Date.now();
    let refusedAfterMs: number | undefined;
    for (let i = 0; i < 400 && Date.now() - changedAt <= 2000; i++) {
      if (await kind.probe(b, s)) {
        refusedAfterMs = Date.now() - changedAt;
        break;
      }
      await sleep(5);
    }
    delays.push(`  ${kind.name}: ${refusedAfterMs ?? 'not within 2000'} ms`);
    expect(refusedAfterMs).toBeLessThanOrEqual(1000);
  });
});
