import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { AuditService } from '../src/audit/audit.service';
import { Clock } from '../src/common/clock';
import { RefreshPurgeService } from '../src/refresh/refresh-purge.service';
import { RefreshGrantContext, RefreshTokensService } from '../src/refresh/refresh-tokens.service';
import { startTestApp, TestApp } from './utils/test-app';

const HOUR = 3_600_000;
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const spki = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;

interface Tenant {
  id: string;
  apiKeyId: string;
  apiKey: { 'x-api-key': string };
}

describe('audit log (e2e)', () => {
  let t: TestApp;
  const admin = () => ({ 'x-api-key': t.adminKey });

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function createTenant(name: string): Promise<Tenant> {
    const res = await t.http.post('/v1/tenants').set(admin()).send({ name }).expect(201);
    const key = await t.http.post(`/v1/tenants/${res.body.id}/api-keys`).set(admin()).send({ label: 'backend' }).expect(201);
    return { id: res.body.id, apiKeyId: key.body.id, apiKey: { 'x-api-key': key.body.key } };
  }

  const events = (tenantId: string, headers: Record<string, string>, query = '') =>
    t.http.get(`/v1/tenants/${tenantId}/audit-events${query}`).set(headers);

  it('records API key creation and deletion with the admin as actor and the request id, and never the key', async () => {
    const tenant = await createTenant('audit-api-keys');
    const created = await t.http
      .post(`/v1/tenants/${tenant.id}/api-keys`)
      .set({ ...admin(), 'x-request-id': 'req-audit-create' })
      .send({ label: 'ci' })
      .expect(201);
    await t.http
      .delete(`/v1/tenants/${tenant.id}/api-keys/${created.body.id}`)
      .set({ ...admin(), 'x-request-id': 'req-audit-delete' })
      .expect(204);
    // A delete that finds nothing changes nothing and writes nothing.
    await t.http.delete(`/v1/tenants/${tenant.id}/api-keys/${created.body.id}`).set(admin()).expect(404);

    const res = await events(tenant.id, tenant.apiKey).expect(200);
    expect(res.body.filter((e: { type: string }) => e.type.startsWith('api_key.'))).toEqual([
      {
        id: expect.any(String),
        tenantId: tenant.id,
        type: 'api_key.deleted',
        actor: 'admin',
        subject: created.body.id,
        details: {},
        requestId: 'req-audit-delete',
        createdAt: expect.any(String),
      },
      {
        id: expect.any(String),
        tenantId: tenant.id,
        type: 'api_key.created',
        actor: 'admin',
        subject: created.body.id,
        details: { label: 'ci' },
        requestId: 'req-audit-create',
        createdAt: expect.any(String),
      },
      {
        id: expect.any(String),
        tenantId: tenant.id,
        type: 'api_key.created',
        actor: 'admin',
        subject: tenant.apiKeyId,
        details: { label: 'backend' },
        requestId: expect.any(String),
        createdAt: expect.any(String),
      },
    ]);
    const stored = JSON.stringify(await t.sql('SELECT * FROM audit_events'));
    expect(stored).not.toContain(created.body.key);
    expect(stored).not.toContain(tenant.apiKey['x-api-key']);
  });

  it('records registered keys created, updated and deleted, with the tenant key as actor', async () => {
    const tenant = await createTenant('audit-registered-keys');
    const base = `/v1/tenants/${tenant.id}/jwt-keys`;
    const { kid, fingerprint } = (
      await t.http.post(base).set(tenant.apiKey).send({ label: 'signer', algorithm: 'ES256', publicKeyPem: spki() }).expect(201)
    ).body;
    await t.http.patch(`${base}/${kid}`).set(tenant.apiKey).send({ active: false }).expect(200);
    await t.http.patch(`${base}/${kid}`).set(tenant.apiKey).send({ label: 'renamed', active: true }).expect(200);
    await t.http.patch(`${base}/${kid}`).set(tenant.apiKey).send({}).expect(200);
    await t.http.delete(`${base}/${kid}`).set(admin()).expect(204);

    const res = await events(tenant.id, tenant.apiKey, '?type=registered_key.created').expect(200);
    expect(res.body).toEqual([
      expect.objectContaining({
        type: 'registered_key.created',
        subject: kid,
        details: { label: 'signer', algorithm: 'ES256', fingerprint, proven: false },
      }),
    ]);

    const all = (await events(tenant.id, admin()).expect(200)).body as Array<{ type: string; actor: string; details: object }>;
    const actor = `api-key:${tenant.apiKeyId}`;
    expect(all.filter((e) => e.type.startsWith('registered_key.')).map((e) => [e.type, e.actor, e.details])).toEqual([
      ['registered_key.deleted', 'admin', {}],
      ['registered_key.updated', actor, { label: 'renamed', active: true }],
      ['registered_key.updated', actor, { active: false }],
      ['registered_key.created', actor, { label: 'signer', algorithm: 'ES256', fingerprint, proven: false }],
    ]);
  });

  it('lets a tenant key read only its own tenant, the admin any tenant, deleted ones too', async () => {
    const own = await createTenant('audit-access-own');
    const other = await createTenant('audit-access-other');
    expect((await events(other.id, own.apiKey).expect(403)).body).toMatchObject({ code: 'TENANT_FORBIDDEN' });
    expect((await events(own.id, {}).expect(401)).body).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await events(own.id, { 'x-api-key': 'tsk_nope' }).expect(401)).body).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await events(other.id, admin()).expect(200)).body).toEqual([
      expect.objectContaining({ tenantId: other.id, type: 'api_key.created' }),
    ]);
    expect((await events(own.id, own.apiKey).expect(200)).body.every((e: { tenantId: string }) => e.tenantId === own.id)).toBe(true);

    expect((await events('00000000-0000-4000-8000-000000000000', admin()).expect(404)).body).toMatchObject({ code: 'NOT_FOUND' });
    await events('not-a-uuid', admin()).expect(404);

    // The trail outlives the tenant: the admin still reads it; the tenant's keys are revoked with it.
    await t.http.delete(`/v1/tenants/${other.id}`).set(admin()).expect(204);
    expect((await events(other.id, admin()).expect(200)).body).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'api_key.created', subject: other.apiKeyId })]),
    );
    await events(other.id, other.apiKey).expect(401);
  });

  it('pages newest first with limit and offset, filters by type, and validates the query', async () => {
    const tenant = await createTenant('audit-paging');
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push(
        (
          await t.http
            .post(`/v1/tenants/${tenant.id}/api-keys`)
            .set(admin())
            .send({ label: `k${i}` })
            .expect(201)
        ).body.id,
      );
    await t.http.delete(`/v1/tenants/${tenant.id}/api-keys/${ids[0]}`).set(admin()).expect(204);

    const all = (await events(tenant.id, tenant.apiKey).expect(200)).body as Array<{
      id: string;
      subject: string;
      type: string;
      createdAt: string;
    }>;
    expect(all.filter((e) => e.type.startsWith('api_key.')).map((e) => e.subject)).toEqual([
      ids[0],
      ids[3],
      ids[2],
      ids[1],
      ids[0],
      tenant.apiKeyId,
    ]);
    const times = all.map((e) => Date.parse(e.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const page = (await events(tenant.id, tenant.apiKey, '?limit=2&offset=1').expect(200)).body as Array<{ id: string }>;
    expect(page.map((e) => e.id)).toEqual(all.slice(1, 3).map((e) => e.id));
    expect((await events(tenant.id, tenant.apiKey, `?offset=${all.length}`).expect(200)).body).toEqual([]);
    const deleted = (await events(tenant.id, tenant.apiKey, '?type=api_key.deleted').expect(200)).body;
    expect(deleted).toEqual([expect.objectContaining({ type: 'api_key.deleted', subject: ids[0] })]);
    expect((await events(tenant.id, tenant.apiKey, '?type=client.created').expect(200)).body).toEqual([]);

    for (const query of [
      '?limit=0',
      '?limit=201',
      '?limit=x',
      '?offset=-1',
      '?type=',
      '?type=API_KEY',
      "?type=a'b",
      `?type=${'a'.repeat(65)}`,
      '?type=a&type=b',
      '?foo=1',
    ]) {
      expect({ query, body: (await events(tenant.id, tenant.apiKey, query).expect(400)).body }).toMatchObject({
        query,
        body: { code: 'VALIDATION_FAILED' },
      });
    }
  });

  it('gives the admin every event, also those outside any tenant, on GET /v1/audit-events', async () => {
    const tenant = await createTenant('audit-global');
    await t.tessera.app
      .get(AuditService)
      .record({ tenantId: null, type: 'signing_key.rotated', actor: 'system', subject: 'kid-1', details: { reason: 'scheduled' } });

    const all = (await t.http.get('/v1/audit-events?limit=200').set(admin()).expect(200)).body as Array<{
      tenantId: string | null;
      type: string;
    }>;
    expect(all[0]).toMatchObject({
      tenantId: null,
      type: 'signing_key.rotated',
      actor: 'system',
      subject: 'kid-1',
      details: { reason: 'scheduled' },
      requestId: null,
    });
    expect(all.some((e) => e.tenantId === tenant.id)).toBe(true);
    const one = (await t.http.get(`/v1/audit-events?tenantId=${tenant.id}`).set(admin()).expect(200)).body as Array<{ tenantId: string }>;
    expect(one.length).toBeGreaterThan(0);
    expect(one.every((e) => e.tenantId === tenant.id)).toBe(true);
    expect((await t.http.get('/v1/audit-events?type=signing_key.rotated').set(admin()).expect(200)).body).toHaveLength(1);

    expect((await t.http.get('/v1/audit-events').set(tenant.apiKey).expect(403)).body).toMatchObject({ code: 'ADMIN_REQUIRED' });
    await t.http.get('/v1/audit-events?tenantId=nope').set(admin()).expect(400);
  });

  it('keeps the table append-only: UPDATE, DELETE and TRUNCATE fail in the database', async () => {
    const tenant = await createTenant('audit-append-only');
    const [row] = await t.sql<{ id: string }>('SELECT id FROM audit_events WHERE tenant_id = $1', [tenant.id]);
    await expect(t.sql(`UPDATE audit_events SET actor = 'someone-else' WHERE id = $1`, [row.id])).rejects.toThrow(
      /append-only: UPDATE refused/,
    );
    await expect(t.sql('DELETE FROM audit_events WHERE id = $1', [row.id])).rejects.toThrow(/append-only: DELETE refused/);
    await expect(t.sql('TRUNCATE audit_events')).rejects.toThrow(/append-only: TRUNCATE refused/);
    expect(await t.sql('SELECT actor FROM audit_events WHERE id = $1', [row.id])).toEqual([{ actor: 'admin' }]);
  });

  it('documents the endpoints in the OpenAPI document with an example', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    const op = doc.paths['/v1/tenants/{tenantId}/audit-events'].get;
    expect(op.security).toEqual([{ 'api-key': [] }]);
    expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['tenantId', 'limit', 'offset', 'type']));
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404']));
    expect(doc.components.schemas.AuditEventResponseDto.properties.type.example).toBe('api_key.created');
    expect(doc.paths['/v1/audit-events'].get.security).toEqual([{ 'api-key': [] }]);
  });
});

describe('refresh grant: a client of another tenant (e2e)', () => {
  let t: TestApp;
  const admin = () => ({ 'x-api-key': t.adminKey });

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function tenantWithClient(name: string) {
    const tenant = (await t.http.post('/v1/tenants').set(admin()).send({ name }).expect(201)).body;
    const client = (
      await t.http
        .post(`/v1/tenants/${tenant.id}/clients`)
        .set(admin())
        .send({ name: 'app', scopes: ['a'] })
        .expect(201)
    ).body;
    return { id: tenant.id as string, client: client as { clientId: string; clientSecret: string } };
  }
  const refresh = (token: string, headers: Record<string, string> = {}) =>
    t.http.post('/oauth/token').set(headers).type('form').send({ grant_type: 'refresh_token', refresh_token: token });

  it('refuses a client of another tenant with invalid_grant, without burning the token; the own tenant’s client and no client are accepted', async () => {
    const home = await tenantWithClient('refresh-home');
    const foreign = await tenantWithClient('refresh-foreign');
    const issued = (await t.http.post(`/v1/tenants/${home.id}/tokens`).set(admin()).send({ sub: 'user-1' }).expect(201)).body;

    const refused = await refresh(issued.refresh_token, {
      authorization: basic(foreign.client.clientId, foreign.client.clientSecret),
    }).expect(400);
    expect(refused.body).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
    const [row] = await t.sql<{ used_at: Date | null }>(
      `SELECT used_at FROM refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8'))`,
      [issued.refresh_token],
    );
    expect(row.used_at).toBeNull();

    const anonymous = await refresh(issued.refresh_token).expect(200);
    const own = await refresh(anonymous.body.refresh_token, {
      authorization: basic(home.client.clientId, home.client.clientSecret),
    }).expect(200);
    // The foreign client is refused on a grace-window retry of a used token as well, and the family lives on.
    await refresh(anonymous.body.refresh_token, { authorization: basic(foreign.client.clientId, foreign.client.clientSecret) }).expect(400);
    await refresh(own.body.refresh_token).expect(200);
  });
});

describe('refresh family purge (e2e)', () => {
  let t: TestApp;
  let clock: Clock;
  let refresh: RefreshTokensService;
  let purge: RefreshPurgeService;
  let tenantId: string;
  // Replicas share the database and the key-encryption key.
  const shared = { KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'), REFRESH_PURGE_INTERVAL: '0' };

  beforeAll(async () => {
    t = await startTestApp({ env: { ...shared, REFRESH_TOKEN_TTL: '1h', REFRESH_FAMILY_MAX_LIFETIME: '1d' } });
    clock = t.tessera.app.get(Clock);
    refresh = t.tessera.app.get(RefreshTokensService);
    purge = t.tessera.app.get(RefreshPurgeService);
    tenantId = (await t.http.post('/v1/tenants').set({ 'x-api-key': t.adminKey }).send({ name: 'purge' }).expect(201)).body.id;
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  const at = (time: number) => jest.spyOn(clock, 'now').mockReturnValue(new Date(time));
  const ctx = (sub: string): RefreshGrantContext => ({
    tenantId,
    sub,
    clientId: null,
    scope: '',
    audience: ['https://api.example'],
    claims: null,
    accessTokenTtl: 300,
  });
  const familyOf = async (token: string) =>
    (
      await t.sql<{ family_id: string }>(`SELECT family_id FROM refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, [token])
    )[0]?.family_id;
  const rowsOf = async (familyId: string) => ({
    families: (await t.sql('SELECT 1 FROM refresh_families WHERE id = $1', [familyId])).length,
    tokens: (await t.sql('SELECT 1 FROM refresh_tokens WHERE family_id = $1', [familyId])).length,
  });

  it('deletes families past their absolute expiry or whose newest token expired, with their tokens, and keeps live ones', async () => {
    const now = Date.now();
    at(now - 48 * HOUR);
    const pastLifetime = await familyOf((await refresh.issue(ctx('past-lifetime'))).refreshToken);
    at(now - 3 * HOUR);
    const idle = await familyOf((await refresh.issue(ctx('idle'))).refreshToken);
    at(now - 90 * 60_000);
    const rotatedToken = (await refresh.issue(ctx('rotated'))).refreshToken;
    const rotated = await familyOf(rotatedToken);
    at(now - 40 * 60_000);
    await refresh.rotate(rotatedToken, null); // the used parent expired 30 minutes ago, the newest token expires in 20
    at(now - HOUR - 30_000);
    const justExpired = await familyOf((await refresh.issue(ctx('just-expired'))).refreshToken);
    at(now);
    const live = await familyOf((await refresh.issue(ctx('live'))).refreshToken);
    const revokedToken = (await refresh.issue(ctx('revoked'))).refreshToken;
    const revoked = await familyOf(revokedToken);
    expect(await refresh.revokeFamilyByToken(revokedToken, tenantId)).toBe(true);

    expect(await purge.purge()).toBe(2);
    expect(await rowsOf(pastLifetime)).toEqual({ families: 0, tokens: 0 });
    expect(await rowsOf(idle)).toEqual({ families: 0, tokens: 0 });
    expect(await rowsOf(rotated)).toEqual({ families: 1, tokens: 2 });
    expect(await rowsOf(live)).toEqual({ families: 1, tokens: 1 });
    expect(await rowsOf(revoked)).toEqual({ families: 1, tokens: 1 });
    // Expired 30 s ago: kept for the one-minute margin against clock skew between replicas, then purged.
    expect(await rowsOf(justExpired)).toEqual({ families: 1, tokens: 1 });
    expect(await purge.purge()).toBe(0);
    at(now + 31_000);
    expect(await purge.purge()).toBe(1);
    expect(await rowsOf(justExpired)).toEqual({ families: 0, tokens: 0 });
    expect(await rowsOf(rotated)).toEqual({ families: 1, tokens: 2 });
  });

  it('works in batches, and two replicas purging at once delete every expired family exactly once', async () => {
    const expiredFamilies = 1500;
    // Bulk rows shaped as the service writes them: one token per family, expired two days ago.
    await t.sql(
      `WITH f AS (
         INSERT INTO refresh_families (tenant_id, sub, audience, access_token_ttl, created_at, expires_at)
         SELECT $1, 'bulk-' || i, ARRAY['https://api.example'], 300, now() - interval '3 days', now() - interval '2 days' FROM generate_series(1, $2::int) i
         RETURNING id, created_at, expires_at)
       INSERT INTO refresh_tokens (family_id, generation, token_hash, tenant_id, expires_at, created_at)
       SELECT id, 0, sha256(convert_to(id::text, 'UTF8')), $1, expires_at, created_at FROM f`,
      [tenantId, expiredFamilies],
    );
    const keep = await familyOf((await refresh.issue(ctx('kept'))).refreshToken);
    const second = await startTestApp({ databaseUrl: t.databaseUrl, env: shared });
    try {
      const other = second.tessera.app.get(RefreshPurgeService);
      const [a, b] = await Promise.all([purge.purge(100), other.purge(100)]);
      expect(a + b).toBe(expiredFamilies);
    } finally {
      await second.close();
    }
    expect(await t.sql(`SELECT 1 FROM refresh_families WHERE sub LIKE 'bulk-%'`)).toEqual([]);
    expect(
      await t.sql(`SELECT 1 FROM refresh_tokens t WHERE NOT EXISTS (SELECT 1 FROM refresh_families f WHERE f.id = t.family_id)`),
    ).toEqual([]);
    expect(await rowsOf(keep)).toEqual({ families: 1, tokens: 1 });
  });

  it('runs on its own every REFRESH_PURGE_INTERVAL', async () => {
    const timed = await startTestApp({ env: { REFRESH_PURGE_INTERVAL: '1' } });
    try {
      const tenant = (await timed.http.post('/v1/tenants').set({ 'x-api-key': timed.adminKey }).send({ name: 'timed' }).expect(201)).body
        .id;
      const expiredAt = new Date(Date.now() - 2 * HOUR);
      const [family] = await timed.sql<{ id: string }>(
        `INSERT INTO refresh_families (tenant_id, sub, audience, access_token_ttl, created_at, expires_at)
         VALUES ($1, 'timed', ARRAY['x'], 300, $2, $2) RETURNING id`,
        [tenant, expiredAt],
      );
      let remaining = 1;
      for (let i = 0; i < 50 && remaining > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        remaining = (await timed.sql('SELECT 1 FROM refresh_families WHERE id = $1', [family.id])).length;
      }
      expect(remaining).toBe(0);
    } finally {
      await timed.close();
    }
  });
});
