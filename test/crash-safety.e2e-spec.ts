import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, RunningProcess, runMain, waitFor } from './utils/process';
import { createTestDatabase } from './utils/test-app';

/**
 * `kill -9` of a replica (real `node dist/main.js` processes on one database) in the middle of
 * a signing-key rotation, and in the middle of a burst of refreshes and revocations. Afterwards:
 * one active key per algorithm and every replica signs with it and publishes it; every refresh
 * family is one line of descent; every revocation answered 2xx is in force on every replica
 * (docs/adr/0011). The victim is A; B survives and plays the rest of the fleet.
 */
interface Replica {
  name: string;
  port: number;
  env: Record<string, string>;
  process: RunningProcess;
}

interface Outcome {
  status: number;
  body: string;
}

const form = { 'content-type': 'application/x-www-form-urlencoded' };
const kidOf = (jwt: string): string => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()).kid;

async function call(url: string, init: RequestInit = {}): Promise<Outcome> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return { status: 0, body: '' }; // no answer: the replica died with the request in flight
  }
}

describe('crash safety: kill -9 mid-rotation and mid-burst (e2e, processes)', () => {
  let db: { url: string; drop(): Promise<void> };
  let sql: Client;
  let watcher: Client;
  let a: Replica;
  let b: Replica;
  const adminKey = `admin_${randomBytes(24).toString('base64url')}`;
  let tenant: { id: string; apiKey: string };

  const url = (r: Replica, path: string) => `http://127.0.0.1:${r.port}${path}`;
  const launch = (name: string, port: number, env: Record<string, string>): Replica => ({
    name,
    port,
    env,
    process: runMain({ ...env, PORT: String(port), DATA_DIR: mkdtempSync(join(tmpdir(), `tessera-crash-${name}-`)) }),
  });
  const whenReady = (r: Replica) =>
    waitFor(
      async () => {
        if (r.process.child.exitCode !== null) throw new Error(`${r.name} exited at start: ${r.process.output().slice(-2000)}`);
        return (await call(url(r, '/health/ready'))).status === 200;
      },
      60_000,
      `${r.name} ready`,
    );
  const kill9 = (r: Replica) => r.process.child.kill('SIGKILL');
  const restartA = async () => {
    await a.process.exited;
    a = launch('a', a.port, a.env);
    await whenReady(a);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    const common = {
      DATABASE_URL: db.url,
      HOST: '127.0.0.1',
      PUBLIC_URL: 'http://tessera.test',
      ADMIN_API_KEY: adminKey,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
      DATABASE_POOL_SIZE: '8',
      RATE_LIMIT_PER_IP: '0',
      RATE_LIMIT_PER_API_KEY: '0',
      RATE_LIMIT_PUBLIC_PER_IP: '0',
      RATE_LIMIT_CREDENTIALS_PER_IP: '0',
      // A client whose refresh answer was lost retries with the same token; the grace window answers it with the same child.
      REFRESH_REUSE_GRACE_SECONDS: '30',
    };
    // A rotates on a schedule (a new key published every few seconds, active one second later); B
    // only follows (NOTIFY), so every lifecycle transaction in flight is A's.
    a = launch('a', await freePort(), { ...common, KEY_ROTATION_INTERVAL: '4', KEY_PUBLISH_DELAY: '1', KEY_CHECK_INTERVAL: '1' });
    await whenReady(a);
    b = launch('b', await freePort(), { ...common, KEY_ROTATION_INTERVAL: '0', KEY_CHECK_INTERVAL: '3600' });
    await whenReady(b);
    sql = new Client({ connectionString: db.url });
    watcher = new Client({ connectionString: db.url });
    await sql.connect();
    await watcher.connect();

    const admin = { 'x-api-key': adminKey, 'content-type': 'application/json' };
    const created = JSON.parse(
      (await call(url(b, '/v1/tenants'), { method: 'POST', headers: admin, body: JSON.stringify({ name: 'crash' }) })).body,
    );
    const key = JSON.parse((await call(url(b, `/v1/tenants/${created.id}/api-keys`), { method: 'POST', headers: admin, body: '{}' })).body);
    tenant = { id: created.id, apiKey: key.key };
  }, 150_000);

  afterAll(async () => {
    await watcher?.end();
    await sql?.end();
    for (const r of [a, b]) {
      if (!r) continue;
      kill9(r);
      await r.process.exited;
    }
    await db?.drop();
  });

  const issue = async (r: Replica, sub: string, refreshToken: boolean) => {
    const res = await call(url(r, `/v1/tenants/${tenant.id}/tokens`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': tenant.apiKey },
      body: JSON.stringify({ sub, refreshToken }),
    });
    expect(res.status).toBe(201);
    return JSON.parse(res.body) as { access_token: string; refresh_token?: string };
  };
  const refresh = (r: Replica, token: string) =>
    call(url(r, '/oauth/token'), {
      method: 'POST',
      headers: form,
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
    });
  const revoke = (r: Replica, token: string) =>
    call(url(r, '/oauth/revoke'), {
      method: 'POST',
      headers: { ...form, 'x-api-key': tenant.apiKey },
      body: new URLSearchParams({ token }).toString(),
    });
  const verify = (r: Replica, token: string) => call(url(r, '/v1/auth/verify'), { headers: { authorization: `Bearer ${token}` } });

  /**
   * Polls pg_stat_activity until one of Tessera's connections sits inside a lifecycle transaction
   * between two statements (the key pair is generated there, between retiring the old key and
   * inserting the new one), then kills A on the spot. Returns the statement it was stopped after.
   */
  async function killInsideKeyTransaction(timeoutMs: number): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && a.process.child.exitCode === null) {
      const { rows } = await watcher.query<{ query: string }>(
        `SELECT query FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'tessera'
            AND state = 'idle in transaction' AND now() - state_change > interval '5 milliseconds'
            AND (query ILIKE '%signing_keys%' AND query NOT ILIKE '%advisory%')`,
      );
      if (rows.length > 0) {
        kill9(a);
        return rows[0].query.replace(/\s+/g, ' ').slice(0, 60);
      }
    }
    return undefined;
  }

  /** Exactly one active key per algorithm in the table, and the replicas publish it and sign with it. */
  async function expectOneActiveKeyServed(replicas: Replica[]): Promise<string> {
    const { rows } = await sql.query<{ algorithm: string; kids: string[] }>(
      `SELECT algorithm, array_agg(kid) AS kids FROM signing_keys WHERE status = 'active' GROUP BY algorithm`,
    );
    expect(rows).toEqual([{ algorithm: 'RS256', kids: [expect.any(String)] }]);
    const active = rows[0].kids[0];
    for (const r of replicas) {
      // B hears of a change by NOTIFY (delivered at commit); A read the table at start.
      await waitFor(
        async () => {
          const jwks = JSON.parse((await call(url(r, '/.well-known/jwks.json'))).body) as { keys: Array<{ kid: string }> };
          if (!jwks.keys.some((k) => k.kid === active)) return false;
          const { rows: now } = await sql.query<{ kid: string }>(`SELECT kid FROM signing_keys WHERE status = 'active'`);
          const token = await issue(r, 'key-check', false);
          return kidOf(token.access_token) === now[0].kid;
        },
        10_000,
        `${r.name} to publish and sign with ${active}`,
      );
    }
    return active;
  }

  it('a rotation killed half-way leaves exactly one active key, published and signing on every replica', async () => {
    // Before A is back the rest of the fleet (B) must still have one active key to sign with; then A too.
    const afterKill = async () => {
      await a.process.exited;
      await expectOneActiveKeyServed([b]);
      await restartA();
      await expectOneActiveKeyServed([a, b]);
    };
    const caught: string[] = [];
    const acknowledged: string[] = [];
    // Emergency rotations (retire the active key, generate, insert), A killed between the statements.
    for (let i = 0; i < 2; i++) {
      const pending = call(url(a, '/v1/signing-keys/rotate?immediate=true'), { method: 'POST', headers: { 'x-api-key': adminKey } });
      const stoppedAfter = await killInsideKeyTransaction(5000);
      const res = await pending;
      if (res.status === 201) acknowledged.push(JSON.parse(res.body).kid);
      if (stoppedAfter) caught.push(stoppedAfter);
      else kill9(a); // it finished first: a kill right after a rotation is worth checking too
      await afterKill();
    }
    // Scheduled rotations: A publishes a key every few seconds by itself; killed in the middle of one.
    for (let i = 0; i < 2; i++) {
      const stoppedAfter = await killInsideKeyTransaction(15_000);
      if (stoppedAfter) caught.push(stoppedAfter);
      else kill9(a);
      await afterKill();
    }
    // Kill timing was real: most kills landed inside a transaction.
    expect(caught.length).toBeGreaterThanOrEqual(2);
    process.stdout.write(`crash-safety: ${caught.length}/4 kills inside a key transaction, after: ${JSON.stringify(caught)}\n`);
    // A rotation answered 201 was committed: its key is still in the table.
    for (const kid of acknowledged) expect((await sql.query(`SELECT 1 FROM signing_keys WHERE kid = $1`, [kid])).rowCount).toBe(1);
    // At most one pending key per algorithm, too (the other half of the lifecycle rule).
    const { rows: pendings } = await sql.query(
      `SELECT algorithm FROM signing_keys WHERE status = 'pending' GROUP BY algorithm HAVING count(*) > 1`,
    );
    expect(pendings).toEqual([]);
  }, 150_000);

  it('a burst of refreshes and revocations killed half-way: one line of descent per family, every 2xx revocation in force', async () => {
    const lost = { refreshes: 0, revocations: 0 };
    const ackedAccess: string[] = [];
    const ackedRefresh: string[] = [];
    const tips: string[] = [];
    for (let round = 0; round < 2; round++) {
      // Prepared on B: families to refresh, access tokens and refresh tokens to revoke.
      const families = await Promise.all(Array.from({ length: 20 }, (_, i) => issue(b, `burst-${round}-${i}`, true)));
      const toRevoke = await Promise.all(Array.from({ length: 20 }, (_, i) => issue(b, `revoked-${round}-${i}`, true)));

      // Everything at once to A, interleaved; A is killed when a quarter of the answers are in, with the rest in flight.
      let answered = 0;
      const killAt = 10 + round * 5;
      const settle = (p: Promise<Outcome>) =>
        p.then((o) => {
          if (o.status !== 0 && ++answered === killAt) kill9(a);
          return o;
        });
      const refreshes: Array<Promise<Outcome>> = [];
      const accessRevocations: Array<Promise<Outcome>> = [];
      const refreshRevocations: Array<Promise<Outcome>> = [];
      for (let i = 0; i < families.length; i++) {
        refreshes.push(settle(refresh(a, families[i].refresh_token!)));
        accessRevocations.push(settle(revoke(a, toRevoke[i].access_token)));
        refreshRevocations.push(settle(revoke(a, toRevoke[i].refresh_token!)));
      }
      const [refreshed, accessRevoked, refreshRevoked] = await Promise.all([
        Promise.all(refreshes),
        Promise.all(accessRevocations),
        Promise.all(refreshRevocations),
      ]);
      if (a.process.child.exitCode === null) kill9(a);

      // A real client whose answer was lost retries the same refresh token (here on B, within the grace window).
      for (const [i, outcome] of refreshed.entries()) {
        let result = outcome;
        if (result.status === 0) {
          lost.refreshes++;
          result = await refresh(b, families[i].refresh_token!);
        }
        expect(result.status).toBe(200);
        tips.push(JSON.parse(result.body).refresh_token);
      }
      for (const [i, o] of accessRevoked.entries()) {
        if (o.status === 200) ackedAccess.push(toRevoke[i].access_token);
        else expect(o.status).toBe(0);
      }
      for (const [i, o] of refreshRevoked.entries()) {
        if (o.status === 200) ackedRefresh.push(toRevoke[i].refresh_token!);
        else expect(o.status).toBe(0);
      }
      lost.revocations += [...accessRevoked, ...refreshRevoked].filter((o) => o.status === 0).length;
      await restartA();
    }
    process.stdout.write(
      `crash-safety burst: ${JSON.stringify({ lost, acknowledgedRevocations: ackedAccess.length + ackedRefresh.length })}\n`,
    );
    // The kills cut requests in flight and others had been answered: the timing was real.
    expect(lost.refreshes + lost.revocations).toBeGreaterThan(0);
    expect(ackedAccess.length + ackedRefresh.length).toBeGreaterThan(0);

    // One line of descent per family: generations 0..n, each the child of the one before, no family ended for reuse.
    const { rows: families } = await sql.query<{ sub: string; gens: number[]; parents: Array<number | null>; reason: string | null }>(
      `SELECT f.sub, array_agg(t.generation ORDER BY t.generation) AS gens, array_agg(p.generation ORDER BY t.generation) AS parents, f.revoked_reason AS reason
         FROM refresh_families f JOIN refresh_tokens t ON t.family_id = f.id LEFT JOIN refresh_tokens p ON p.id = t.parent_id
        WHERE f.tenant_id = $1 AND f.sub LIKE 'burst-%' GROUP BY f.id`,
      [tenant.id],
    );
    expect(families).toHaveLength(40);
    for (const f of families) expect(f).toEqual({ sub: f.sub, gens: [0, 1], parents: [null, 0], reason: null });
    const { rows: reused } = await sql.query(`SELECT id FROM refresh_families WHERE tenant_id = $1 AND revoked_reason = 'reuse'`, [
      tenant.id,
    ]);
    expect(reused).toEqual([]);
    // The tip each client holds is the live one, on the restarted replica too.
    for (const tip of tips.slice(0, 10)) expect((await refresh(a, tip)).status).toBe(200);

    // Every revocation answered 200 is in force on both replicas, A freshly restarted from the table.
    for (const r of [a, b]) {
      for (const token of ackedAccess) {
        const res = await verify(r, token);
        expect({ status: res.status, revoked: res.body.includes('TOKEN_REVOKED') }).toEqual({ status: 401, revoked: true });
      }
      for (const token of ackedRefresh) {
        const res = await refresh(r, token);
        expect({ status: res.status, error: JSON.parse(res.body).error }).toEqual({ status: 400, error: 'invalid_grant' });
      }
    }
  }, 150_000);
});
