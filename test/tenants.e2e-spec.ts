import { createHash } from 'node:crypto';
import { startTestApp, TestApp } from './utils/test-app';

describe('tenants and API keys (e2e)', () => {
  let t: TestApp;
  const admin = () => ({ 'x-api-key': t.adminKey });

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function createTenant(name: string) {
    const res = await t.http.post('/v1/tenants').set(admin()).send({ name }).expect(201);
    return res.body as { id: string; name: string };
  }

  async function createKey(tenantId: string, label = 'backend') {
    const res = await t.http.post(`/v1/tenants/${tenantId}/api-keys`).set(admin()).send({ label }).expect(201);
    return res.body as { id: string; key: string; prefix: string };
  }

  it('creates, reads, lists, updates and soft-deletes a tenant', async () => {
    const created = await t.http.post('/v1/tenants').set(admin()).send({ name: 'acme', accessTokenMaxTtl: 900 }).expect(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'acme',
      disabled: false,
      accessTokenMaxTtl: 900,
      registeredTokenMaxTtl: 600,
      requireDpop: false,
      createdAt: expect.any(String),
    });
    const id = created.body.id;
    await t.http.get(`/v1/tenants/${id}`).set(admin()).expect(200, created.body);
    const list = await t.http.get('/v1/tenants').set(admin()).expect(200);
    expect(list.body.map((x: { id: string }) => x.id)).toContain(id);

    const patched = await t.http.patch(`/v1/tenants/${id}`).set(admin()).send({ name: 'acme-2', disabled: true }).expect(200);
    expect(patched.body).toMatchObject({ name: 'acme-2', disabled: true });

    await t.http.delete(`/v1/tenants/${id}`).set(admin()).expect(204);
    await t.http.get(`/v1/tenants/${id}`).set(admin()).expect(404);
    await t.http.delete(`/v1/tenants/${id}`).set(admin()).expect(404);
    const [row] = await t.sql<{ deleted_at: Date | null; is_disabled: boolean }>(
      'SELECT deleted_at, is_disabled FROM tenants WHERE id = $1',
      [id],
    );
    expect(row.deleted_at).not.toBeNull();
    expect(row.is_disabled).toBe(true);
  });

  it('refuses a second live tenant with the same name (409) and frees the name on delete', async () => {
    const first = await createTenant('dup-name');
    const res = await t.http.post('/v1/tenants').set(admin()).send({ name: 'DUP-name' }).expect(409);
    expect(res.body).toMatchObject({ statusCode: 409, error: 'conflict', code: 'CONFLICT' });
    await t.http.delete(`/v1/tenants/${first.id}`).set(admin()).expect(204);
    await createTenant('dup-name');
  });

  it('validates bodies and names the failing fields', async () => {
    const res = await t.http.post('/v1/tenants').set(admin()).send({ name: '', accessTokenMaxTtl: 5 }).expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.message).toContain('name');
    expect(res.body.message).toContain('accessTokenMaxTtl');
    const unknown = await t.http.post('/v1/tenants').set(admin()).send({ name: 'x', isAdmin: true }).expect(400);
    expect(unknown.body.message).toContain('isAdmin');
    await t.http.get('/v1/tenants/not-a-uuid').set(admin()).expect(404);
  });

  it('shows an API key once and stores only its SHA-256', async () => {
    const tenant = await createTenant('hashed');
    const created = await createKey(tenant.id);
    expect(created.key).toMatch(/^tsk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);

    const list = await t.http.get(`/v1/tenants/${tenant.id}/api-keys`).set(admin()).expect(200);
    expect(list.body).toEqual([{ id: created.id, label: 'backend', prefix: created.prefix, createdAt: expect.any(String) }]);
    expect(JSON.stringify(list.body)).not.toContain(created.key);

    const [row] = await t.sql<Record<string, unknown>>('SELECT * FROM api_keys WHERE id = $1', [created.id]);
    expect(row.key_hash).toEqual(createHash('sha256').update(created.key).digest());
    const secretPart = created.key.slice(created.prefix.length + 1);
    for (const value of Object.values(row)) {
      const text = Buffer.isBuffer(value) ? value.toString('latin1') : String(value);
      expect(text).not.toContain(secretPart);
    }
  });

  it('lets a tenant key reach its own tenant only, and never admin routes', async () => {
    const a = await createTenant('tenant-a');
    const b = await createTenant('tenant-b');
    const keyA = (await createKey(a.id)).key;

    await t.http.get(`/v1/tenants/${a.id}`).set('x-api-key', keyA).expect(200);
    const foreign = await t.http.get(`/v1/tenants/${b.id}`).set('x-api-key', keyA).expect(403);
    expect(foreign.body).toMatchObject({ statusCode: 403, error: 'forbidden', code: 'TENANT_FORBIDDEN' });
    const adminOnly = await t.http.post('/v1/tenants').set('x-api-key', keyA).send({ name: 'evil' }).expect(403);
    expect(adminOnly.body.code).toBe('ADMIN_REQUIRED');
    await t.http.post(`/v1/tenants/${a.id}/api-keys`).set('x-api-key', keyA).send({}).expect(403);
  });

  it('answers 401 UNAUTHENTICATED to a missing, malformed, unknown or revoked key', async () => {
    const tenant = await createTenant('revoked');
    const key = await createKey(tenant.id);
    await t.http.get(`/v1/tenants/${tenant.id}`).expect(401);
    await t.http.get(`/v1/tenants/${tenant.id}`).set('x-api-key', 'nonsense').expect(401);
    const forged = `${key.prefix}_${'A'.repeat(43)}`;
    const res = await t.http.get(`/v1/tenants/${tenant.id}`).set('x-api-key', forged).expect(401);
    expect(res.body).toMatchObject({ statusCode: 401, error: 'unauthorized', code: 'UNAUTHENTICATED' });

    await t.http.delete(`/v1/tenants/${tenant.id}/api-keys/${key.id}`).set(admin()).expect(204);
    await t.http.get(`/v1/tenants/${tenant.id}`).set('x-api-key', key.key).expect(401);
    await t.http.delete(`/v1/tenants/${tenant.id}/api-keys/${key.id}`).set(admin()).expect(404);
  });

  it('refuses a disabled tenant’s keys, and revokes them all when the tenant is deleted', async () => {
    const tenant = await createTenant('lifecycle');
    const key = (await createKey(tenant.id)).key;
    await t.http.patch(`/v1/tenants/${tenant.id}`).set(admin()).send({ disabled: true }).expect(200);
    const disabled = await t.http.get(`/v1/tenants/${tenant.id}`).set('x-api-key', key).expect(403);
    expect(disabled.body.code).toBe('TENANT_FORBIDDEN');
    await t.http.patch(`/v1/tenants/${tenant.id}`).set(admin()).send({ disabled: false }).expect(200);
    await t.http.get(`/v1/tenants/${tenant.id}`).set('x-api-key', key).expect(200);

    await t.http.delete(`/v1/tenants/${tenant.id}`).set(admin()).expect(204);
    await t.http.get(`/v1/tenants/${tenant.id}`).set('x-api-key', key).expect(401);
    const rows = await t.sql<{ revoked_at: Date | null }>('SELECT revoked_at FROM api_keys WHERE tenant_id = $1', [tenant.id]);
    expect(rows.length).toBe(1);
    expect(rows.every((r) => r.revoked_at !== null)).toBe(true);
  });
});
