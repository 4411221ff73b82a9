import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { RunningHaproxy, startHaproxy } from './utils/haproxy';
import { freePort, RunningProcess, runMain, waitFor } from './utils/process';
import { createTestDatabase } from './utils/test-app';

/**
 * Two `node dist/main.js` replicas on one database behind Debian's haproxy, a load client in
 * its own process, and each replica in turn stopped with SIGTERM and started again. Nothing
 * may fail, no refresh token may be spent twice and no revocation may be lost (docs/adr/0011).
 */
const LOAD_CLIENT = join(__dirname, 'utils', 'load-client.mjs');
const DRAIN_SECONDS = 3;
const TIMEOUT_SECONDS = 10;

interface Replica {
  name: string;
  port: number;
  process: RunningProcess;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Status of a GET, or 0 when nothing answered; the body is read so no socket is left hanging. */
async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; connection: string | null; body: string }> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
    return { status: res.status, connection: res.headers.get('connection'), body: await res.text() };
  } catch {
    return { status: 0, connection: null, body: '' };
  }
}

describe('rolling restart behind haproxy (e2e, processes)', () => {
  let db: { url: string; drop(): Promise<void> };
  let haproxy: RunningHaproxy;
  let sql: Client;
  const replicas: Replica[] = [];
  const adminKey = `admin_${randomBytes(24).toString('base64url')}`;
  let env: Record<string, string>;

  const start = (name: string, port: number): Replica => ({
    name,
    port,
    process: runMain({ ...env, PORT: String(port), DATA_DIR: mkdtempSync(join(tmpdir(), `tessera-rolling-${name}-`)) }),
  });
  const direct = (r: Replica) => `http://127.0.0.1:${r.port}`;
  const whenReady = (r: Replica) =>
    waitFor(
      async () => {
        if (r.process.child.exitCode !== null) throw new Error(`${r.name} exited at start: ${r.process.output().slice(-2000)}`);
        return (await get(`${direct(r)}/health/ready`)).status === 200;
      },
      60_000,
      `${r.name} ready`,
    );
  const haproxySees = (r: Replica, state: 'UP' | 'DOWN') =>
    waitFor(async () => (await haproxy.serverStates())[r.name] === state, 20_000, `haproxy to see ${r.name} ${state}`);

  beforeAll(async () => {
    db = await createTestDatabase();
    const lbPort = await freePort();
    env = {
      DATABASE_URL: db.url,
      HOST: '127.0.0.1',
      // Both replicas are one issuer: the load balancer's address.
      PUBLIC_URL: `http://127.0.0.1:${lbPort}`,
      ADMIN_API_KEY: adminKey,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
      DATABASE_POOL_SIZE: '4',
      RATE_LIMIT_PER_IP: '0',
      RATE_LIMIT_PER_API_KEY: '0',
      RATE_LIMIT_PUBLIC_PER_IP: '0',
      RATE_LIMIT_CREDENTIALS_PER_IP: '0',
      // Longer than haproxy needs to see the 503 (one inter, then fall 3 × fastinter 250 ms) with room for a busy machine.
      SHUTDOWN_DRAIN_SECONDS: String(DRAIN_SECONDS),
      SHUTDOWN_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS),
    };
    // The first replica applies the migrations, then the second starts on the same schema.
    replicas.push(start('a', await freePort()));
    await whenReady(replicas[0]);
    replicas.push(start('b', await freePort()));
    await whenReady(replicas[1]);
    haproxy = await startHaproxy(
      replicas.map((r) => ({ name: r.name, port: r.port })),
      lbPort,
    );
    for (const r of replicas) await haproxySees(r, 'UP');
    sql = new Client({ connectionString: db.url });
    await sql.connect();
  }, 150_000);

  afterAll(async () => {
    await sql?.end();
    await haproxy?.stop();
    for (const r of replicas) {
      r.process.child.kill('SIGKILL');
      await r.process.exited;
    }
    await db?.drop();
  });

  it('restarts each replica in turn under load: zero failed requests, no refresh token spent twice, no revocation lost', async () => {
    const admin = { 'x-api-key': adminKey, 'content-type': 'application/json' };
    const lb = haproxy.url;
    const tenant = (await (
      await fetch(`${lb}/v1/tenants`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'rolling' }) })
    ).json()) as { id: string };
    const apiKey = (
      (await (await fetch(`${lb}/v1/tenants/${tenant.id}/api-keys`, { method: 'POST', headers: admin, body: '{}' })).json()) as {
        key: string;
      }
    ).key;

    const resultFile = join(mkdtempSync(join(tmpdir(), 'tessera-load-')), 'result.json');
    const options = {
      base: lb,
      tenantId: tenant.id,
      apiKey,
      chains: 4,
      issuers: 2,
      revokeEvery: 3,
      durationMs: 120_000,
      maxRequests: 40_000,
      refreshRetryWithinMs: 0,
      resultFile,
    };
    const load = spawn(process.execPath, [LOAD_CLIENT, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let loadOut = '';
    load.stdout.on('data', (d) => (loadOut += String(d)));
    load.stderr.on('data', (d) => (loadOut += String(d)));
    const loadExited = new Promise<number | null>((resolve) => load.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => loadOut.includes('"running"') || load.exitCode !== null, 10_000, 'the load client');
      await sleep(1000);

      for (const [i, old] of replicas.entries()) {
        old.process.child.kill('SIGTERM');
        // Readiness turns 503 first, while the replica still serves (and asks to close keep-alive connections).
        await waitFor(async () => (await get(`${direct(old)}/health/ready`)).status === 503, 2000, `${old.name} readiness 503`);
        const ready = await get(`${direct(old)}/health/ready`);
        expect(JSON.parse(ready.body)).toEqual({
          statusCode: 503,
          error: 'service_unavailable',
          code: 'SERVICE_UNAVAILABLE',
          message: expect.stringContaining('Shutting down'),
        });
        const live = await get(`${direct(old)}/health/live`);
        expect(live.status).toBe(200);
        expect(live.connection).toBe('close');
        const served = await get(`${direct(old)}/v1/tenants/${tenant.id}`, { 'x-api-key': apiKey });
        expect(served.status).toBe(200);
        await haproxySees(old, 'DOWN');
        // Taken out by the health check while it still served: HTTP had not closed yet.
        expect(old.process.child.exitCode).toBeNull();

        let overdue: NodeJS.Timeout | undefined;
        const code = await Promise.race([
          old.process.exited,
          new Promise((resolve) => (overdue = setTimeout(() => resolve('still running'), (DRAIN_SECONDS + TIMEOUT_SECONDS + 5) * 1000))),
        ]);
        clearTimeout(overdue);
        expect(code).toBe(0);

        const next = start(old.name, old.port);
        replicas[i] = next;
        await whenReady(next);
        await haproxySees(next, 'UP');
        // Both serve for a while before the next one goes.
        await sleep(1500);
      }
    } finally {
      load.kill('SIGINT');
    }
    expect(await loadExited).toBe(0);
    const summary = JSON.parse(
      loadOut
        .trim()
        .split('\n')
        .find((l) => l.includes('"done"'))!,
    ) as Record<string, unknown>;
    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as {
      requests: number;
      failed: number;
      issued: number;
      refreshed: number;
      verified: number;
      revoked: number;
      refreshRetries: number;
      failures: unknown[];
      chains: Array<{ sub: string; refreshes: number; refreshToken: string; broken: boolean }>;
      revokedTokens: string[];
    };
    // Zero failed requests, with no retry anywhere in the client (haproxy retries only connections that were refused).
    expect({ failed: result.failed, failures: result.failures, refreshRetries: result.refreshRetries }).toEqual({
      failed: 0,
      failures: [],
      refreshRetries: 0,
    });
    for (const n of [result.issued, result.refreshed, result.verified, result.revoked]) expect(n).toBeGreaterThan(0);
    process.stdout.write(`rolling restart load: ${JSON.stringify(summary)}\n`);

    // No refresh token spent twice: every chain is one line of descent whose tip the client holds, and no family ended for reuse.
    const reused = await sql.query(`SELECT id FROM refresh_families WHERE tenant_id = $1 AND revoked_at IS NOT NULL`, [tenant.id]);
    expect(reused.rows).toEqual([]);
    for (const chain of result.chains) {
      expect(chain.broken).toBe(false);
      const { rows } = await sql.query<{ generation: number; parent_generation: number | null; used: boolean }>(
        `SELECT t.generation, p.generation AS parent_generation, t.used_at IS NOT NULL AS used
           FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id LEFT JOIN refresh_tokens p ON p.id = t.parent_id
          WHERE f.tenant_id = $1 AND f.sub = $2 ORDER BY t.generation`,
        [tenant.id, chain.sub],
      );
      expect(rows).toEqual(
        Array.from({ length: chain.refreshes + 1 }, (_, g) => ({
          generation: g,
          parent_generation: g === 0 ? null : g - 1,
          used: g < chain.refreshes,
        })),
      );
    }
    // The tip is live on either replica: refresh each chain once more, directly.
    for (const [i, chain] of result.chains.entries()) {
      const res = await fetch(`${direct(replicas[i % 2])}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: chain.refreshToken }).toString(),
      });
      expect(res.status).toBe(200);
    }

    // No revocation lost: every token revoked during the restarts is refused by both replicas, asked directly.
    const [{ count }] = (await sql.query(`SELECT count(*)::int AS count FROM revoked_jtis WHERE tenant_id = $1`, [tenant.id])).rows;
    expect(count).toBe(result.revokedTokens.length);
    const refusedEverywhere = async () => {
      for (const r of replicas) {
        for (const token of result.revokedTokens) {
          const res = await get(`${direct(r)}/v1/auth/verify`, { authorization: `Bearer ${token}` });
          if (res.status !== 401 || !res.body.includes('TOKEN_REVOKED')) return false;
        }
      }
      return true;
    };
    // NOTIFY reaches a replica within a second; the bound only covers the last revocations of the run.
    await waitFor(refusedEverywhere, 10_000, 'every revoked token refused on both replicas');
  }, 180_000);
});
