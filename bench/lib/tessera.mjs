// Starts a production build of Tessera (dist/main.js) on a fresh database of the machine's
// Postgres, with rate limits off, and gives the scenarios an admin client for set-up.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVER_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export function databaseUrl(name) {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function createDatabase() {
  const name = `tessera_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    name,
    url: databaseUrl(name),
    drop: async () => {
      const c = new pg.Client({ connectionString: SERVER_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * Spawns `node dist/main.js` and waits for /health/ready. `env` overrides the defaults;
 * `nodeArgs` lets a scenario add --cpu-prof. Returns { url, adminKey, stop(), request() }.
 */
export async function startTessera({ env = {}, nodeArgs = [], database } = {}) {
  const db = database ?? (await createDatabase());
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const cleanUp = async () => {
    rmSync(dataDir, { recursive: true, force: true });
    if (!database) await db.drop();
  };
  const adminKey = `bench_admin_${randomBytes(24).toString('hex')}`;
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist', 'main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: url,
      DATABASE_URL: db.url,
      ADMIN_API_KEY: adminKey,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      DATA_DIR: dataDir,
      RATE_LIMIT_PER_IP: '0',
      RATE_LIMIT_PER_API_KEY: '0',
      RATE_LIMIT_PUBLIC_PER_IP: '0',
      RATE_LIMIT_CREDENTIALS_PER_IP: '0',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      await cleanUp();
      throw new Error(`Tessera exited during start-up: ${stderr.trim()}`);
    }
    try {
      const res = await fetch(`${url}/health/ready`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      await cleanUp();
      throw new Error('Tessera did not become ready within 60 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  async function request(method, path, body, headers = {}) {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'x-api-key': adminKey, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  return {
    url,
    adminKey,
    pid: child.pid,
    databaseUrl: db.url,
    request,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      await cleanUp();
    },
  };
}

/** A tenant with an API key, ready for issuance. */
export async function createTenant(tessera, name = `bench-${randomBytes(4).toString('hex')}`) {
  const tenant = await tessera.request('POST', '/v1/tenants', { name, accessTokenMaxTtl: 86400 });
  const key = await tessera.request('POST', `/v1/tenants/${tenant.id}/api-keys`, { label: 'bench' });
  return { id: tenant.id, apiKey: key.key };
}
