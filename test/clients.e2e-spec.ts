import { createHash } from 'node:crypto';
import { ClientsService } from '../src/clients/clients.service';
import { startTestApp, TestApp } from './utils/test-app';

describe('OAuth clients (e2e)', () => {
  let t: TestApp;
  const admin = () => ({ 'x-api-key': t.adminKey });

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function createTenant(name: string) {
    const res = await t.http.post('/v1/tenants').set(admin()).send({ name }).expect(201);
    const key = await t.http.post(`/v1/tenants/${res.body.id}/api-keys`).set(admin()).send({}).expect(201);
    return { id: res.body.id as string, apiKey: { 'x-api-key': key.body.key as string } };
  }

  it('creates a client, shows its secret once, stores only its SHA-256, lists and deletes it', async () => {
    const tenant = await createTenant('clients-crud');
    const base = `/v1/tenants/${tenant.id}/clients`;
    const created = await t.http
      .post(base)
      .set(tenant.apiKey)
      .send({ name: 'billing', scopes: ['orders:read', 'orders:write', 'orders:read'] })
      .expect(201);
    expect(created.body).toEqual({
      clientId: expect.stringMatching(/^tcl_[0-9a-f]{24}$/),
      name: 'billing',
      scopes: ['orders:read', 'orders:write'],
      tokenEndpointAuthMethod: 'client_secret_basic',
      clientSecret: expect.stringMatching(/^tcs_[A-Za-z0-9_-]{43}$/),
      createdAt: expect.any(String),
    });
    expect(Buffer.from(created.body.clientSecret.slice(4), 'base64url')).toHaveLength(32);

    const list = await t.http.get(base).set(tenant.apiKey).expect(200);
    const { clientSecret, ...withoutSecret } = created.body;
    expect(list.body).toEqual([withoutSecret]);
    expect(list.text).not.toContain(clientSecret);

    const [row] = await t.sql<Record<string, unknown>>('SELECT * FROM clients WHERE client_id = $1', [created.body.clientId]);
    expect(row.secret_hash).toEqual(createHash('sha256').update(clientSecret).digest());
    expect(JSON.stringify(row)).not.toContain(clientSecret.slice(4));

    await t.http.delete(`${base}/${created.body.clientId}`).set(tenant.apiKey).expect(204);
    expect((await t.http.get(base).set(tenant.apiKey).expect(200)).body).toEqual([]);
    await t.http.delete(`${base}/${created.body.clientId}`).set(tenant.apiKey).expect(404);
    const [deleted] = await t.sql<{ deleted_at: Date | null }>('SELECT deleted_at FROM clients WHERE client_id = $1', [
      created.body.clientId,
    ]);
    expect(deleted.deleted_at).not.toBeNull();
    expect(t.logs()).not.toContain(clientSecret);
  });

  it('authenticates with the right secret only, and never after a delete or while the tenant is disabled', async () => {
    const clients = t.tessera.app.get(ClientsService);
    const tenant = await createTenant('clients-auth');
    const base = `/v1/tenants/${tenant.id}/clients`;
    const { clientId, clientSecret } = (
      await t.http
        .post(base)
        .set(admin())
        .send({ name: 'worker', scopes: ['a'] })
        .expect(201)
    ).body;

    expect(await clients.authenticate(clientId, clientSecret)).toEqual({ clientId, tenantId: tenant.id, scopes: ['a'] });
    expect(await clients.authenticate(clientId, `${clientSecret.slice(0, -1)}x`)).toBeUndefined();
    expect(await clients.authenticate(clientId, '')).toBeUndefined();
    expect(await clients.authenticate('tcl_000000000000000000000000', clientSecret)).toBeUndefined();
    expect(await clients.authenticate("tcl_' OR 1=1 --", clientSecret)).toBeUndefined();
    expect(await clients.findForTenant(tenant.id, clientId)).toEqual({ clientId, tenantId: tenant.id, scopes: ['a'] });
    expect(await clients.findForTenant('00000000-0000-4000-8000-000000000000', clientId)).toBeUndefined();

    await t.http.patch(`/v1/tenants/${tenant.id}`).set(admin()).send({ disabled: true }).expect(200);
    expect(await clients.authenticate(clientId, clientSecret)).toBeUndefined();
    await t.http.patch(`/v1/tenants/${tenant.id}`).set(admin()).send({ disabled: false }).expect(200);
    expect(await clients.authenticate(clientId, clientSecret)).toBeDefined();

    await t.http.delete(`${base}/${clientId}`).set(admin()).expect(204);
    expect(await clients.authenticate(clientId, clientSecret)).toBeUndefined();
    expect(await clients.findForTenant(tenant.id, clientId)).toBeUndefined();
  });

  it('validates names and scopes (RFC 6749 §3.3 scope tokens, capped count) and refuses unknown fields', async () => {
    const tenant = await createTenant('clients-validation');
    const base = `/v1/tenants/${tenant.id}/clients`;
    const cases: Array<[object, RegExp]> = [
      [{ scopes: ['a'] }, /name/],
      [{ name: '', scopes: ['a'] }, /name: should not be empty/],
      [{ name: 'x'.repeat(101), scopes: [] }, /name: must be shorter/],
      [{ name: 'x' }, /scopes/],
      [{ name: 'x', scopes: 'a b' }, /scopes/],
      [{ name: 'x', scopes: ['has space'] }, /scope token/],
      [{ name: 'x', scopes: ['quote"'] }, /scope token/],
      [{ name: 'x', scopes: ['back\\slash'] }, /scope token/],
      [{ name: 'x', scopes: ['ünïcode'] }, /scope token/],
      [{ name: 'x', scopes: [''] }, /scope token/],
      [{ name: 'x', scopes: [42] }, /scopes/],
      [{ name: 'x', scopes: ['s'.repeat(129)] }, /shorter than or equal to 128/],
      [{ name: 'x', scopes: Array.from({ length: 51 }, (_, i) => `s${i}`) }, /no more than 50/],
      [{ name: 'x', scopes: [], clientSecret: 'mine' }, /clientSecret: unknown field/],
    ];
    for (const [body, message] of cases) {
      const res = await t.http.post(base).set(tenant.apiKey).send(body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'bad_request',
        code: 'VALIDATION_FAILED',
        message: expect.stringMatching(message),
      });
    }
    await t.http.post(base).set(tenant.apiKey).send({ name: 'empty scopes', scopes: [] }).expect(201);
    await t.http
      .post(base)
      .set(tenant.apiKey)
      .send({ name: 'url scope', scopes: ['https://api.example.com/orders.read', 'a!#$%&()*+,-./:;<=>?@[]^_`{|}~'] })
      .expect(201);
  });

  it('keeps tenants apart: 403 on another tenant’s path, 404 for another tenant’s client, 404 for an unknown tenant', async () => {
    const a = await createTenant('clients-iso-a');
    const b = await createTenant('clients-iso-b');
    const clientB = (await t.http.post(`/v1/tenants/${b.id}/clients`).set(b.apiKey).send({ name: 'b', scopes: [] }).expect(201)).body;
    const forbidden = await t.http.get(`/v1/tenants/${b.id}/clients`).set(a.apiKey).expect(403);
    expect(forbidden.body).toMatchObject({ code: 'TENANT_FORBIDDEN' });
    await t.http.post(`/v1/tenants/${b.id}/clients`).set(a.apiKey).send({ name: 'x', scopes: [] }).expect(403);
    await t.http.delete(`/v1/tenants/${b.id}/clients/${clientB.clientId}`).set(a.apiKey).expect(403);
    await t.http.delete(`/v1/tenants/${a.id}/clients/${clientB.clientId}`).set(a.apiKey).expect(404);
    await t.http.get(`/v1/tenants/${b.id}/clients`).expect(401);
    const unknown = '00000000-0000-4000-8000-000000000000';
    await t.http.get(`/v1/tenants/${unknown}/clients`).set(admin()).expect(404);
    await t.http.post(`/v1/tenants/${unknown}/clients`).set(admin()).send({ name: 'x', scopes: [] }).expect(404);
    expect((await t.http.get(`/v1/tenants/${b.id}/clients`).set(b.apiKey).expect(200)).body).toHaveLength(1);
  });

  it('writes audit events for creation and deletion, without the secret', async () => {
    const tenant = await createTenant('clients-audit');
    const created = (
      await t.http
        .post(`/v1/tenants/${tenant.id}/clients`)
        .set(tenant.apiKey)
        .send({ name: 'audited', scopes: ['x'] })
        .expect(201)
    ).body;
    await t.http.delete(`/v1/tenants/${tenant.id}/clients/${created.clientId}`).set(admin()).expect(204);
    const events = await t.sql<Record<string, unknown>>(
      "SELECT * FROM audit_events WHERE tenant_id = $1 AND type LIKE 'client.%' ORDER BY created_at",
      [tenant.id],
    );
    expect(events.map((e) => [e.type, e.subject])).toEqual([
      ['client.created', created.clientId],
      ['client.deleted', created.clientId],
    ]);
    expect(events[0].actor).toMatch(/^api-key:/);
    expect(events[1].actor).toBe('admin');
    expect(JSON.stringify(events)).not.toContain(created.clientSecret);
  });
});
