import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, runMain, waitFor } from './utils/process';
import { createTestDatabase } from './utils/test-app';

describe('the built service as a process (e2e)', () => {
  it('stops at start with one line naming a bad variable, and no stack', async () => {
    const p = runMain({
      PORT: 'eighty',
      DATABASE_URL: 'postgres://x@127.0.0.1:1/x',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'tessera-cfg-')),
    });
    expect(await p.exited).toBe(1);
    expect(p.output().trim()).toBe('Invalid configuration: PORT must be a number (got "eighty")');
  });

  it('requires its secrets in production', async () => {
    const p = runMain({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://x@127.0.0.1:1/x',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'tessera-cfg-')),
    });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('ADMIN_API_KEY is required when NODE_ENV=production');
    expect(p.output()).not.toMatch(/\n\s+at /);
  });

  it('logs JSON request lines with request ids, never a secret it saw, and drains on SIGTERM', async () => {
    const db = await createTestDatabase();
    const port = await freePort();
    const adminKey = `admin_${randomBytes(24).toString('base64url')}`;
    const p = runMain({
      DATABASE_URL: db.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_API_KEY: adminKey,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      DATA_DIR: mkdtempSync(join(tmpdir(), 'tessera-log-')),
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(() => p.output().includes('Tessera listening'), 30000, 'start-up');
      expect(p.output()).toContain('database: Postgres at');
      // The URL's password, when there is one, is masked in the start-up line.
      const password = new URL(db.url).password;
      if (password) {
        expect(p.output()).toContain(':***@');
        expect(p.output()).not.toContain(`:${password}@`);
      }

      const post = (path: string, body: unknown, key: string) =>
        fetch(base + path, {
          method: 'POST',
          headers: { 'x-api-key': key, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const tenant = (await (await post('/v1/tenants', { name: 'logged' }, adminKey)).json()) as { id: string };
      const created = (await (await post(`/v1/tenants/${tenant.id}/api-keys`, {}, adminKey)).json()) as { key: string; prefix: string };
      const res = await fetch(`${base}/v1/tenants/${tenant.id}?token=secret-in-query`, {
        headers: { 'x-api-key': created.key, 'x-request-id': 'req-42', cookie: 'session=cookie-secret' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBe('req-42');
      const denied = await fetch(`${base}/v1/tenants`, {
        headers: { authorization: 'Bearer bearer-secret-value', 'x-api-key': 'wrong-secret-value' },
      });
      expect(denied.status).toBe(401);

      await waitFor(() => p.output().includes('"req-42"'), 5000, 'the request log line').catch((e) => {
        throw new Error(e.message + p.output().slice(-3000));
      });
      const lines = p
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      expect(lines.some((l) => l.reqId === 'req-42' && l.statusCode === 200 && l.route === '/v1/tenants/:tenantId')).toBe(true);
      for (const secret of [
        adminKey,
        created.key,
        created.key.slice(created.prefix.length + 1),
        'secret-in-query',
        'cookie-secret',
        'bearer-secret-value',
        'wrong-secret-value',
      ]) {
        expect(p.output()).not.toContain(secret);
      }

      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      expect(p.output()).toContain('SIGTERM received');
    } finally {
      p.child.kill('SIGKILL');
      await db.drop();
    }
  });

  it('runs CLUSTER_WORKERS workers on one port and one embedded engine, and stops them all on SIGTERM', async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cluster-'));
    // Run as root, the embedded engine runs as the postgres user, which must reach the directory.
    chmodSync(dataDir, 0o755);
    const p = runMain({ CLUSTER_WORKERS: '2', PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir });
    try {
      const listening = () => (p.output().match(/Tessera listening/g) ?? []).length;
      await waitFor(() => p.child.exitCode !== null || listening() === 2, 90000, 'two workers');
      if (listening() !== 2) throw new Error(`the workers did not start: ${p.output().slice(-2000)}`);
      // One embedded engine for all: both workers name the same database.
      const databases = [...p.output().matchAll(/database: Postgres at (\S+)/g)].map((m) => m[1]);
      expect(databases).toHaveLength(2);
      expect(new Set(databases).size).toBe(1);
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(res.status).toBe(200);
      // One signing key, whichever worker started first.
      const jwks = (await (await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`)).json()) as { keys: unknown[] };
      expect(jwks.keys).toHaveLength(1);

      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      expect((p.output().match(/SIGTERM received/g) ?? []).length).toBe(2);
    } finally {
      p.child.kill('SIGKILL');
    }
  }, 120_000);
});
