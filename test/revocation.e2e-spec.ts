import { randomBytes } from 'node:crypto';
import { Clock } from '../src/common/clock';
import { RefreshTokensService } from '../src/refresh/refresh-tokens.service';
import { DenylistService } from '../src/revocation/denylist.service';
import { RevocationService } from '../src/revocation/revocation.service';
import { startTestApp, TestApp } from './utils/test-app';

/** Polls (bounded) until `predicate` holds; returns the milliseconds it took. */
async function within(ms: number, predicate: () => boolean, what: string): Promise<number> {
  const started = Date.now();
  for (let i = 0; i < 1000 && Date.now() - started <= ms; i++) {
    if (predicate()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

describe('revocation denylist (e2e)', () => {
  let a: TestApp;
  let b: TestApp;
  const admin = (t: TestApp) => ({ 'x-api-key': t.adminKey });
  const denylist = (t: TestApp) => t.tessera.app.get(DenylistService);

  // Replicas share the database and the key-encryption key.
  const shared = { KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex') };

  beforeAll(async () => {
    a = await startTestApp({ env: shared });
    // A second replica on the same database; its backstop reload is off, so only NOTIFY can tell it.
    b = await startTestApp({ databaseUrl: a.databaseUrl, env: { ...shared, DENYLIST_RELOAD_INTERVAL: '3600' } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });
  afterEach(() => jest.restoreAllMocks());

  async function createTenant(t: TestApp, name: string) {
    const res = await t.http.post('/v1/tenants').set(admin(t)).send({ name }).expect(201);
    const key = await t.http.post(`/v1/tenants/${res.body.id}/api-keys`).set(admin(t)).send({}).expect(201);
    return { id: res.body.id as string, apiKey: { 'x-api-key': key.body.key as string } };
  }

  it('revokes a subject: 200 {tenantId, sub, notBefore}, iat up to the cut-off second is revoked, later is not, audit row written', async () => {
    const tenant = await createTenant(a, 'subject-revoke');
    const res = await a.http.post(`/v1/tenants/${tenant.id}/subjects/user%3A42/revoke`).set(tenant.apiKey).expect(200);
    expect(res.body).toEqual({ tenantId: tenant.id, sub: 'user:42', notBefore: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    const nbf = seconds(res.body.notBefore);

    const d = denylist(a);
    expect(d.isRevoked({ tenantId: tenant.id, sub: 'user:42', iat: nbf - 100 })).toBe(true);
    expect(d.isRevoked({ tenantId: tenant.id, sub: 'user:42', iat: nbf })).toBe(true); // same second counts as before
    expect(d.isRevoked({ tenantId: tenant.id, sub: 'user:42' })).toBe(true); // no iat: cannot prove it is newer
    expect(d.isRevoked({ tenantId: tenant.id, sub: 'user:42', iat: nbf + 1 })).toBe(false);
    expect(d.isRevoked({ tenantId: tenant.id, sub: 'user:43', iat: nbf - 100 })).toBe(false);
    expect(d.isRevoked({ tenantId: '00000000-0000-4000-8000-000000000000', sub: 'user:42', iat: nbf - 100 })).toBe(false);

    const [cutoff] = await a.sql<{ not_before: Date; expires_at: Date }>(
      'SELECT not_before, expires_at FROM subject_cutoffs WHERE tenant_id = $1 AND sub = $2',
      [tenant.id, 'user:42'],
    );
    expect(cutoff.not_before.toISOString()).toBe(res.body.notBefore);
    expect(cutoff.expires_at.getTime() - cutoff.not_before.getTime()).toBe((86400 + 30) * 1000);

    const audit = await a.sql<{ type: string; actor: string; subject: string; details: Record<string, unknown>; request_id: string }>(
      "SELECT type, actor, subject, details, request_id FROM audit_events WHERE tenant_id = $1 AND type = 'subject.revoked'",
      [tenant.id],
    );
    expect(audit).toEqual([
      {
        type: 'subject.revoked',
        actor: expect.stringMatching(/^api-key:/),
        subject: 'user:42',
        details: { notBefore: res.body.notBefore, refreshFamiliesEnded: 0 },
        request_id: res.headers['x-request-id'],
      },
    ]);

    // A later cut-off moves not_before forward, never back.
    const clock = a.tessera.app.get(Clock);
    jest.spyOn(clock, 'now').mockReturnValue(new Date(Date.parse(res.body.notBefore) + 60_000));
    const later = await a.http.post(`/v1/tenants/${tenant.id}/subjects/user%3A42/revoke`).set(admin(a)).expect(200);
    expect(seconds(later.body.notBefore)).toBe(nbf + 60);
    expect(d.isRevoked({ tenantId: tenant.id, sub: 'user:42', iat: nbf + 30 })).toBe(true);
  });

  it('ends the subject’s refresh families in the same step', async () => {
    const tenant = await createTenant(a, 'subject-families');
    const refresh = a.tessera.app.get(RefreshTokensService);
    const ctx = { tenantId: tenant.id, sub: 'alice', clientId: null, scope: 'read', audience: ['api'], claims: null, accessTokenTtl: 600 };
    const one = await refresh.issue(ctx);
    const two = await refresh.issue(ctx);
    const other = await refresh.issue({ ...ctx, sub: 'bob' });
    const res = await a.http.post(`/v1/tenants/${tenant.id}/subjects/alice/revoke`).set(admin(a)).expect(200);
    for (const token of [one.refreshToken, two.refreshToken]) {
      await expect(refresh.rotate(token, null)).rejects.toMatchObject({ error: 'invalid_grant' });
    }
    await expect(refresh.rotate(other.refreshToken, null)).resolves.toMatchObject({ context: { sub: 'bob' } });
    const families = await a.sql<{ sub: string; revoked_reason: string | null }>(
      'SELECT sub, revoked_reason FROM refresh_families WHERE tenant_id = $1 ORDER BY sub',
      [tenant.id],
    );
    expect(families).toEqual([
      { sub: 'alice', revoked_reason: 'subject_revoked' },
      { sub: 'alice', revoked_reason: 'subject_revoked' },
      { sub: 'bob', revoked_reason: null },
    ]);
    const [audit] = await a.sql<{ details: { refreshFamiliesEnded: number } }>(
      `SELECT details FROM audit_events WHERE tenant_id = $1 AND type = 'subject.revoked'`,
      [tenant.id],
    );
    expect(audit.details.refreshFamiliesEnded).toBe(2);

    // A family started after the cut-off works.
    jest.spyOn(a.tessera.app.get(Clock), 'now').mockReturnValue(new Date(Date.parse(res.body.notBefore) + 1000));
    const fresh = await refresh.issue(ctx);
    await expect(refresh.rotate(fresh.refreshToken, null)).resolves.toMatchObject({ context: { sub: 'alice' } });
  });

  it('guards the endpoint: 401 without a key, 403 for another tenant, 404 for an unknown tenant 414 for a sub over the router’s 500 characters', async () => {
    const x = await createTenant(a, 'guard-x');
    const y = await createTenant(a, 'guard-y');
    await a.http.post(`/v1/tenants/${x.id}/subjects/u/revoke`).expect(401);
    const forbidden = await a.http.post(`/v1/tenants/${x.id}/subjects/u/revoke`).set(y.apiKey).expect(403);
    expect(forbidden.body.code).toBe('TENANT_FORBIDDEN');
    await a.http.post('/v1/tenants/00000000-0000-4000-8000-000000000000/subjects/u/revoke').set(admin(a)).expect(404);
    await a.http.post('/v1/tenants/not-a-uuid/subjects/u/revoke').set(admin(a)).expect(404);
    // Path parameters are at most 500 characters (Fastify maxParamLength): longer is 414 URI Too Long.
    await a.http
      .post(`/v1/tenants/${x.id}/subjects/${'s'.repeat(501)}/revoke`)
      .set(admin(a))
      .expect(414);
    await a.http.post(`/v1/tenants/${x.id}/subjects//revoke`).set(admin(a)).expect(404);
    await a.http
      .post(`/v1/tenants/${x.id}/subjects/${'s'.repeat(500)}/revoke`)
      .set(admin(a))
      .expect(200);
    await a.http
      .post(`/v1/tenants/${x.id}/subjects/${'s'.repeat(500)}/revoke`)
      .set(admin(a))
      .expect(200);
    expect(await a.sql('SELECT sub FROM subject_cutoffs WHERE tenant_id = $1', [x.id])).toEqual([{ sub: 's'.repeat(500) }]);
  });

  it('documents the endpoint in OpenAPI with the API-key security scheme', async () => {
    const doc = await a.http.get('/docs-json').expect(200);
    const op = doc.body.paths['/v1/tenants/{tenantId}/subjects/{sub}/revoke']?.post;
    expect(op).toBeDefined();
    expect(op.security).toEqual([{ 'api-key': [] }]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '401', '403', '404']));
    expect(op.tags).toEqual(['revocation']);
  });

  it('reaches a second replica within a second: subject cut-off, revoked jti, and tenant disable', async () => {
    const tenant = await createTenant(a, 'two-replicas');
    const iat = Math.floor(Date.now() / 1000) - 10;

    const res = await a.http.post(`/v1/tenants/${tenant.id}/subjects/carol/revoke`).set(admin(a)).expect(200);
    expect(res.body.sub).toBe('carol');
    const subjectMs = await within(
      2000,
      () => denylist(b).isRevoked({ tenantId: tenant.id, sub: 'carol', iat }),
      'subject cut-off on replica B',
    );
    expect(subjectMs).toBeLessThan(1000);

    expect(denylist(a).isRevoked({ tenantId: tenant.id, jti: 'jti-1' })).toBe(false);
    await b.tessera.app.get(RevocationService).revokeAccessToken(tenant.id, 'jti-1', new Date(Date.now() + 600_000));
    expect(denylist(b).isRevoked({ tenantId: tenant.id, jti: 'jti-1' })).toBe(true); // its own replica at once
    const jtiMs = await within(2000, () => denylist(a).isRevoked({ tenantId: tenant.id, jti: 'jti-1' }), 'jti on replica A');
    expect(jtiMs).toBeLessThan(1000);
    expect(denylist(a).isRevoked({ tenantId: tenant.id, jti: 'jti-2' })).toBe(false);

    expect(denylist(b).isRevoked({ tenantId: tenant.id, jti: 'anything' })).toBe(false);
    await a.http.patch(`/v1/tenants/${tenant.id}`).set(admin(a)).send({ disabled: true }).expect(200);
    const tenantMs = await within(2000, () => denylist(b).isRevoked({ tenantId: tenant.id, jti: 'anything' }), 'tenant block on replica B');
    expect(tenantMs).toBeLessThan(1000);
    await a.http.patch(`/v1/tenants/${tenant.id}`).set(admin(a)).send({ disabled: false }).expect(200);
    await within(2000, () => !denylist(b).isRevoked({ tenantId: tenant.id, jti: 'anything' }), 'tenant unblock on replica B');
    await a.http.delete(`/v1/tenants/${tenant.id}`).set(admin(a)).expect(204);
    await within(2000, () => denylist(b).isRevoked({ tenantId: tenant.id, sub: 'dave', iat: iat + 100 }), 'tenant delete on replica B');

    const [audit] = await a.sql<{ type: string; actor: string; details: object }>(
      `SELECT type, actor, details FROM audit_events WHERE tenant_id = $1 AND type = 'access_token.revoked'`,
      [tenant.id],
    );
    expect(audit).toEqual({ type: 'access_token.revoked', actor: 'oauth', details: { jti: 'jti-1' } });
  });

  it('tells replicas to reload when a change does not fit a NOTIFY payload (a 7000-character subject)', async () => {
    // jtis are at most 256 characters now (docs/adr/0013-registered-token-trust.md); subjects may still be long.
    const tenant = await createTenant(a, 'huge-sub');
    const sub = 's'.repeat(7000);
    await a.tessera.app.get(RevocationService).revokeSubject(tenant.id, sub, 'test');
    const iat = Math.floor(Date.now() / 1000) - 5;
    const ms = await within(2000, () => denylist(b).isRevoked({ tenantId: tenant.id, sub, iat }), 'huge subject on replica B');
    expect(ms).toBeLessThan(1000);
  });

  it('refuses a jti over 256 characters at revocation', async () => {
    const tenant = await createTenant(a, 'long-jti');
    await expect(
      a.tessera.app.get(RevocationService).revokeAccessToken(tenant.id, 'j'.repeat(257), new Date(Date.now() + 600_000)),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('loads everything from the database when a replica starts', async () => {
    const tenant = await createTenant(a, 'restart');
    const disabled = await createTenant(a, 'restart-disabled');
    await a.tessera.app.get(RevocationService).revokeAccessToken(tenant.id, 'kept-jti', new Date(Date.now() + 600_000));
    await a.http.post(`/v1/tenants/${tenant.id}/subjects/erin/revoke`).set(admin(a)).expect(200);
    await a.http.patch(`/v1/tenants/${disabled.id}`).set(admin(a)).send({ disabled: true }).expect(200);

    const c = await startTestApp({ databaseUrl: a.databaseUrl, env: shared });
    try {
      const d = denylist(c);
      expect(d.isRevoked({ tenantId: tenant.id, jti: 'kept-jti' })).toBe(true);
      expect(d.isRevoked({ tenantId: tenant.id, sub: 'erin', iat: Math.floor(Date.now() / 1000) - 5 })).toBe(true);
      expect(d.isRevoked({ tenantId: disabled.id })).toBe(true);
      expect(d.isRevoked({ tenantId: tenant.id, jti: 'other' })).toBe(false);
      expect(d.stats().listening).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('catches up through the periodic backstop reload when a notification never came', async () => {
    const tenant = await createTenant(a, 'backstop');
    const c = await startTestApp({ databaseUrl: a.databaseUrl, env: { ...shared, DENYLIST_RELOAD_INTERVAL: '1' } });
    try {
      // A row written without its NOTIFY (trigger off for this one statement's transaction).
      await a.sql(`BEGIN; ALTER TABLE revoked_jtis DISABLE TRIGGER revoked_jtis_notify;
        INSERT INTO revoked_jtis (tenant_id, jti, expires_at) VALUES ('${tenant.id}', 'silent', now() + interval '1 hour');
        ALTER TABLE revoked_jtis ENABLE TRIGGER revoked_jtis_notify; COMMIT`);
      await new Promise((r) => setTimeout(r, 200));
      expect(denylist(b).isRevoked({ tenantId: tenant.id, jti: 'silent' })).toBe(false); // B's backstop is off: NOTIFY only
      await within(2500, () => denylist(c).isRevoked({ tenantId: tenant.id, jti: 'silent' }), 'backstop reload on replica C');
    } finally {
      await c.close();
    }
  });

  it('purges expired rows and drops them from memory; an already expired token is not stored', async () => {
    const tenant = await createTenant(a, 'purge');
    const revocations = a.tessera.app.get(RevocationService);
    const now = Date.now();
    await revocations.revokeAccessToken(tenant.id, 'short', new Date(now + 60_000));
    await revocations.revokeAccessToken(tenant.id, 'long', new Date(now + 3_600_000));
    await revocations.revokeAccessToken(tenant.id, 'dead', new Date(now - 60_000)); // exp + 30 s tolerance already past
    const rows = await a.sql<{ jti: string; expires_at: Date }>(
      'SELECT jti, expires_at FROM revoked_jtis WHERE tenant_id = $1 ORDER BY jti',
      [tenant.id],
    );
    expect(rows.map((r) => r.jti)).toEqual(['long', 'short']);
    expect(rows[1].expires_at.getTime()).toBe(now + 60_000 + 30_000); // kept while a verifier's clock tolerance still accepts it

    const clock = a.tessera.app.get(Clock);
    jest.spyOn(clock, 'now').mockReturnValue(new Date(now + 10 * 60_000));
    const d = denylist(a);
    expect(d.isRevoked({ tenantId: tenant.id, jti: 'short' })).toBe(false);
    expect(d.isRevoked({ tenantId: tenant.id, jti: 'long' })).toBe(true);
    await d.tick();
    expect((await a.sql<{ jti: string }>('SELECT jti FROM revoked_jtis WHERE tenant_id = $1', [tenant.id])).map((r) => r.jti)).toEqual([
      'long',
    ]);

    await a.http.post(`/v1/tenants/${tenant.id}/subjects/frank/revoke`).set(admin(a)).expect(200);
    jest.spyOn(clock, 'now').mockReturnValue(new Date(now + 2 * 86_400_000));
    expect(d.isRevoked({ tenantId: tenant.id, sub: 'frank', iat: Math.floor(now / 1000) })).toBe(false);
    await d.tick();
    expect(await a.sql('SELECT * FROM subject_cutoffs WHERE tenant_id = $1', [tenant.id])).toEqual([]);
    expect(await a.sql('SELECT * FROM revoked_jtis WHERE tenant_id = $1', [tenant.id])).toEqual([]);
  });

  it('reconnects the listener after its connection is killed and catches up on what it missed', async () => {
    const tenant = await createTenant(a, 'reconnect');
    const killed = await a.sql<{ pid: number }>(
      `SELECT pg_terminate_backend(pid), pid FROM pg_stat_activity WHERE application_name = 'tessera-denylist' AND datname = current_database()`,
    );
    expect(killed.length).toBeGreaterThanOrEqual(2); // one per replica
    // Written while the listeners are away: seen through the reload that follows the reconnect.
    await a.sql(`INSERT INTO revoked_jtis (tenant_id, jti, expires_at) VALUES ($1, 'missed', now() + interval '1 hour')`, [tenant.id]);
    for (const t of [a, b]) {
      await within(8000, () => denylist(t).isRevoked({ tenantId: tenant.id, jti: 'missed' }), 'catch-up after reconnect');
      await within(8000, () => denylist(t).stats().listening, 'listening again');
    }
    await a.sql(`INSERT INTO revoked_jtis (tenant_id, jti, expires_at) VALUES ($1, 'after', now() + interval '1 hour')`, [tenant.id]);
    const ms = await within(2000, () => denylist(b).isRevoked({ tenantId: tenant.id, jti: 'after' }), 'notification after reconnect');
    expect(ms).toBeLessThan(1000);
    expect(a.logs()).toContain('Revocation listener connection lost');
  });
});
