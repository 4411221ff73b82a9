import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, JSONWebKeySet, jwtVerify, SignJWT } from 'jose';
import { Client } from 'pg';
import { MIGRATIONS } from '../src/database/migrations';
import { NotificationsService } from '../src/database/notifications.service';
import { runMigrations } from '../src/database/run-migrations';
import { SigningService } from '../src/keys/signing.service';
import { DenylistService } from '../src/revocation/denylist.service';
import { RevocationService } from '../src/revocation/revocation.service';
import { startPgBouncer, RunningPgBouncer } from './utils/pgbouncer';
import { createTestDatabase, serverUrl, startTestApp, TestApp } from './utils/test-app';

/**
 * Every flow that touches the database, with DATABASE_URL pointing at a real PgBouncer in
 * pool_mode = transaction: once with DATABASE_SESSION_URL (direct) for LISTEN, once without
 * (the self-test must notice and the replicas poll). Revocation propagation delays are
 * printed; the only timed bounds are the design's: within a second with notifications,
 * within the documented poll interval without (docs/adr/0010).
 */

const PUBLIC_URL = 'https://tessera.test';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const POLL_SECONDS = 2;
const SAMPLES = 8;

/** Polls (bounded) until `predicate` holds; returns the milliseconds it took. */
async function within(ms: number, predicate: () => boolean | Promise<boolean>, what: string): Promise<number> {
  const started = Date.now();
  for (let i = 0; i < 10_000 && Date.now() - started <= ms; i++) {
    if (await predicate()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

const summary = (ms: number[]) => {
  const sorted = [...ms].sort((x, y) => x - y);
  return `n=${ms.length} min=${sorted[0]} median=${sorted[Math.floor(sorted.length / 2)]} max=${sorted[sorted.length - 1]} ms`;
};

describe('behind PgBouncer in transaction pooling (e2e)', () => {
  let bouncer: RunningPgBouncer;
  const figures: string[] = [];
  const apps: TestApp[] = [];
  /**
   * Log lines of every replica this file started. nestjs-pino keeps one root logger per
   * process (the first app's stream gets every line logged outside a request), so a line
   * cannot be attributed to the replica that wrote it here; counting them all still can tell one from two.
   */
  const linesWith = (text: string) => apps.flatMap((t) => t.logs().split('\n')).filter((l) => l.includes(text));

  beforeAll(async () => {
    bouncer = await startPgBouncer(serverUrl());
  });
  afterAll(async () => {
    await bouncer?.stop();
    if (figures.length) process.stdout.write(`\nRevocation propagation to the other replica through PgBouncer:\n${figures.join('\n')}\n`);
  });

  const admin = (t: TestApp) => ({ 'x-api-key': t.adminKey });

  async function createTenant(t: TestApp, name: string) {
    const res = await t.http.post('/v1/tenants').set(admin(t)).send({ name }).expect(201);
    const key = await t.http.post(`/v1/tenants/${res.body.id}/api-keys`).set(admin(t)).send({}).expect(201);
    return { id: res.body.id as string, apiKey: { 'x-api-key': key.body.key as string } };
  }

  /** Two replicas on one fresh database, both pools through PgBouncer. */
  async function twoReplicas(session: boolean, env: Record<string, string> = {}) {
    const db = await createTestDatabase();
    const shared = {
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      PUBLIC_URL,
      // Only NOTIFY (or the fallback poll) can tell a replica: the backstops are an hour away.
      DENYLIST_RELOAD_INTERVAL: '3600',
      KEY_CHECK_INTERVAL: '3600',
      NOTIFY_FALLBACK_POLL_INTERVAL: String(POLL_SECONDS),
      REFRESH_REUSE_GRACE_SECONDS: '5',
      ...(session ? { DATABASE_SESSION_URL: db.url } : {}),
      ...env,
    };
    // Two migration runs at once on the empty database, both through PgBouncer: the lock must hold there too.
    const runs = await Promise.all([runMigrations(bouncer.through(db.url)), runMigrations(bouncer.through(db.url))]);
    const a = await startTestApp({ databaseUrl: bouncer.through(db.url), env: shared });
    const b = await startTestApp({ databaseUrl: bouncer.through(db.url), env: shared });
    apps.push(a, b);
    return {
      a,
      b,
      db,
      runs,
      close: async () => {
        await b.close();
        await a.close();
        await db.drop();
      },
    };
  }

  /** The clients PgBouncer serves for `database` (its admin console), by application name. */
  async function bouncerClients(database: string): Promise<string[]> {
    const url = new URL(bouncer.through(serverUrl()));
    url.pathname = '/pgbouncer';
    const c = new Client({ connectionString: url.toString() });
    await c.connect();
    try {
      const rows = (await c.query('SHOW CLIENTS')).rows as Array<{ database: string; application_name: string }>;
      return rows.filter((r) => r.database === database).map((r) => r.application_name);
    } finally {
      await c.end();
    }
  }

  /** Revokes `SAMPLES` jtis on `from` and measures when `to` refuses each. */
  async function propagation(from: TestApp, to: TestApp, tenantId: string, boundMs: number): Promise<number[]> {
    const revocations = from.tessera.app.get(RevocationService);
    const denylist = to.tessera.app.get(DenylistService);
    const delays: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const jti = randomUUID();
      const started = Date.now();
      await revocations.revokeAccessToken(tenantId, jti, new Date(Date.now() + 600_000));
      await within(boundMs, () => denylist.isRevoked({ tenantId, jti }), `revoked jti ${i} on the other replica`);
      delays.push(Date.now() - started);
      // Spread the samples over the poll cycle, so that the figures show its whole range.
      await new Promise((r) => setTimeout(r, 137 + i * 97));
    }
    return delays;
  }

  describe('with DATABASE_SESSION_URL (LISTEN and migrations direct)', () => {
    let r: Awaited<ReturnType<typeof twoReplicas>>;
    beforeAll(async () => {
      r = await twoReplicas(true);
    });
    afterAll(() => r?.close());

    it('pools through PgBouncer, LISTENs directly, and the self-test passes: no warning, no polling', async () => {
      const dbName = new URL(r.db.url).pathname.slice(1);
      expect(await bouncerClients(dbName)).toContain('tessera');
      const listeners = await r.a.sql<{ application_name: string }>(
        `SELECT application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name IN ('tessera-denylist', 'tessera-keys') ORDER BY 1`,
      );
      // One session per channel and replica, direct (PgBouncer's server connections are named after whichever client used them last).
      expect(listeners.map((l) => l.application_name)).toEqual(['tessera-denylist', 'tessera-denylist', 'tessera-keys', 'tessera-keys']);
      for (const t of [r.a, r.b]) {
        await t.tessera.app.get(NotificationsService).probeAll();
        expect(t.tessera.app.get(NotificationsService).isPolling()).toBe(false);
      }
      expect(linesWith('Notifications do not arrive')).toEqual([]);
    });

    it('applies each migration once when two runs start together through PgBouncer (transaction-level lock)', async () => {
      await flows.migratedOnce(r);
    });

    it('issues tokens on one replica that the other verifies', async () => {
      await flows.issuance(r.a, r.b);
    });

    it('keeps one line of descent under concurrent refreshes spread over both replicas', async () => {
      await flows.refreshRace(r.a, r.b);
    });

    it('accepts a jwt-bearer assertion exactly once among parallel requests to both replicas', async () => {
      await flows.jwtBearerReplay(r.a, r.b);
    });

    it('rotates with exactly one rotator among two replicas; an emergency rotation reaches the other within a second', async () => {
      const ms = await flows.rotation(r.a, r.b, 1000);
      expect(ms).toBeLessThan(1000);
    });

    it('makes a revocation on one replica seen by the other within a second (NOTIFY)', async () => {
      const tenant = await createTenant(r.a, 'pgb-session-revoke');
      const delays = await propagation(r.a, r.b, tenant.id, 2000);
      figures.push(`  with DATABASE_SESSION_URL (NOTIFY):     ${summary(delays)}`);
      for (const ms of delays) expect(ms).toBeLessThan(1000);
      await flows.revokedOverHttp(r.a, r.b, 2000);
    });
  });

  describe('without DATABASE_SESSION_URL (LISTEN through PgBouncer never hears anything)', () => {
    let r: Awaited<ReturnType<typeof twoReplicas>>;
    beforeAll(async () => {
      r = await twoReplicas(false);
    });
    afterAll(() => r?.close());

    it('detects at start that notifications do not arrive, warns once naming DATABASE_SESSION_URL, and polls', async () => {
      // One per replica (the replicas with DATABASE_SESSION_URL logged none, see above).
      const warnings = () => linesWith('Notifications do not arrive');
      expect(warnings()).toHaveLength(2);
      expect(warnings()[0]).toContain('set DATABASE_SESSION_URL');
      expect(warnings()[0]).toContain(`polling every ${POLL_SECONDS} s`);
      for (const t of [r.a, r.b]) {
        expect(t.tessera.app.get(NotificationsService).isPolling()).toBe(true);
        // The periodic self-test fails again: no second warning.
        await t.tessera.app.get(NotificationsService).probeAll();
        const metrics = (await t.http.get('/metrics').expect(200)).text;
        expect(metrics).toMatch(/^tessera_notification_fallback_polling 1$/m);
        expect(metrics).toMatch(/^tessera_notification_healthy\{channel="tessera_denylist"\} 0$/m);
        expect(metrics).toMatch(/^tessera_notification_healthy\{channel="tessera_signing_keys"\} 0$/m);
      }
      expect(warnings()).toHaveLength(2);
    });

    it('applies each migration once when two runs start together through PgBouncer, with no session URL at all', async () => {
      await flows.migratedOnce(r);
    });

    it('issues tokens on one replica that the other verifies', async () => {
      await flows.issuance(r.a, r.b);
    });

    it('keeps one line of descent under concurrent refreshes spread over both replicas', async () => {
      await flows.refreshRace(r.a, r.b);
    });

    it('accepts a jwt-bearer assertion exactly once among parallel requests to both replicas', async () => {
      await flows.jwtBearerReplay(r.a, r.b);
    });

    it('rotates with exactly one rotator; an emergency rotation reaches the other within the poll interval', async () => {
      const ms = await flows.rotation(r.a, r.b, POLL_SECONDS * 1000 + 1500);
      figures.push(`  emergency key rotation, polling:         ${ms} ms`);
    });

    it('makes a revocation on one replica seen by the other within the poll interval', async () => {
      const tenant = await createTenant(r.a, 'pgb-poll-revoke');
      // The poll interval plus the time one reload takes on a loaded CI machine.
      const bound = POLL_SECONDS * 1000 + 1500;
      const delays = await propagation(r.a, r.b, tenant.id, bound);
      figures.push(`  without it (polling every ${POLL_SECONDS} s):      ${summary(delays)}`);
      for (const ms of delays) expect(ms).toBeLessThanOrEqual(bound);
      await flows.revokedOverHttp(r.a, r.b, bound);
    });
  });

  const flows = {
    async migratedOnce(r: { a: TestApp; runs: string[][] }): Promise<void> {
      const all = MIGRATIONS.map((m) => new m().name);
      expect([...r.runs[0], ...r.runs[1]].sort()).toEqual([...all].sort());
      const rows = await r.a.sql<{ name: string }>(`SELECT name FROM migrations ORDER BY id`);
      expect(rows.map((x) => x.name).sort()).toEqual([...all].sort());
    },

    async issuance(a: TestApp, b: TestApp): Promise<void> {
      const tenant = await createTenant(a, `pgb-issue-${randomUUID().slice(0, 8)}`);
      const issued = await a.http
        .post(`/v1/tenants/${tenant.id}/tokens`)
        .set(tenant.apiKey)
        .send({ sub: 'alice', scope: 'read' })
        .expect(201);
      const jwks = (await b.http.get('/.well-known/jwks.json').expect(200)).body as JSONWebKeySet;
      const { payload } = await jwtVerify(issued.body.access_token, createLocalJWKSet(jwks), { issuer: PUBLIC_URL });
      expect(payload).toMatchObject({ sub: 'alice', tenant_id: tenant.id });
      await b.http.get('/v1/auth/verify').set('authorization', `Bearer ${issued.body.access_token}`).expect(200);
    },

    async refreshRace(a: TestApp, b: TestApp): Promise<void> {
      const tenant = await createTenant(a, `pgb-refresh-${randomUUID().slice(0, 8)}`);
      let token = (await a.http.post(`/v1/tenants/${tenant.id}/tokens`).set(tenant.apiKey).send({ sub: 'bob', scope: 'read' }).expect(201))
        .body.refresh_token as string;
      const first = token;
      for (let round = 0; round < 15; round++) {
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 ? a : b).http.post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: token }),
          ),
        );
        // Within the grace window every concurrent presentation gets the same child.
        expect(results.map((x) => x.status)).toEqual(Array(8).fill(200));
        const children = new Set(results.map((x) => x.body.refresh_token as string));
        expect(children.size).toBe(1);
        token = [...children][0];
      }
      const rows = await a.sql<{ generation: number; n: string }>(
        `SELECT generation, count(*) AS n FROM refresh_tokens WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8')))
         GROUP BY generation ORDER BY generation`,
        [first],
      );
      expect(rows.map((x) => [x.generation, x.n])).toEqual(Array.from({ length: 16 }, (_, g) => [g, '1']));
    },

    async jwtBearerReplay(a: TestApp, b: TestApp): Promise<void> {
      const tenant = await createTenant(a, `pgb-jwt-${randomUUID().slice(0, 8)}`);
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }) as string;
      const kid = (
        await a.http
          .post(`/v1/tenants/${tenant.id}/jwt-keys`)
          .set(tenant.apiKey)
          .send({ label: 'backend', algorithm: 'RS256', publicKeyPem: pem })
          .expect(201)
      ).body.kid;
      for (let round = 0; round < 3; round++) {
        const now = Math.floor(Date.now() / 1000);
        const assertion = await new SignJWT({
          sub: 'user-1',
          jti: randomUUID(),
          aud: `${PUBLIC_URL}/oauth/token`,
          iat: now,
          exp: now + 120,
        })
          .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
          .sign(pair.privateKey);
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            (i % 2 ? a : b).http.post('/oauth/token').type('form').send({ grant_type: JWT_BEARER, assertion }),
          ),
        );
        expect(results.map((x) => x.status).sort()).toEqual([200, ...Array(9).fill(400)]);
        for (const x of results.filter((y) => y.status === 400)) expect(x.body.error).toBe('invalid_grant');
      }
    },

    /** Returns how long the emergency rotation took to reach the other replica's signer. */
    async rotation(a: TestApp, b: TestApp, boundMs: number): Promise<number> {
      const [ra, rb] = await Promise.all([
        a.http.post('/v1/signing-keys/rotate').set(admin(a)),
        b.http.post('/v1/signing-keys/rotate').set(admin(b)),
      ]);
      expect([ra.status, rb.status].sort()).toEqual([200, 201]);
      expect(ra.body.kid).toBe(rb.body.kid);
      const [{ count }] = await a.sql<{ count: string }>(`SELECT count(*) FROM signing_keys WHERE status = 'pending'`);
      expect(count).toBe('1');
      const [{ creators }] = await a.sql<{ creators: string }>(
        `SELECT count(*) AS creators FROM audit_events WHERE type = 'signing_key.created' AND subject = $1`,
        [ra.body.kid],
      );
      expect(creators).toBe('1');

      const emergency = await a.http.post('/v1/signing-keys/rotate?immediate=true').set(admin(a)).expect(201);
      const signer = b.tessera.app.get(SigningService);
      const ms = await within(
        boundMs,
        async () => decodeProtectedHeader(await signer.sign({ sub: 'x' })).kid === emergency.body.kid,
        'emergency key on the other replica',
      );
      const [{ active }] = await a.sql<{ active: string }>(`SELECT count(*) AS active FROM signing_keys WHERE status = 'active'`);
      expect(active).toBe('1');
      return ms;
    },

    /** A subject revoked over HTTP on one replica is refused by the other's forward-auth. */
    async revokedOverHttp(a: TestApp, b: TestApp, boundMs: number): Promise<void> {
      const tenant = await createTenant(a, `pgb-http-revoke-${randomUUID().slice(0, 8)}`);
      const issued = await a.http.post(`/v1/tenants/${tenant.id}/tokens`).set(tenant.apiKey).send({ sub: 'mallory' }).expect(201);
      const bearer = { authorization: `Bearer ${issued.body.access_token}` };
      await b.http.get('/v1/auth/verify').set(bearer).expect(200);
      await a.http.post(`/v1/tenants/${tenant.id}/subjects/mallory/revoke`).set(admin(a)).expect(200);
      await within(
        boundMs,
        async () => (await b.http.get('/v1/auth/verify').set(bearer)).status === 401,
        'subject revocation on the other replica',
      );
    },
  };
});
