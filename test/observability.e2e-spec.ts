import { startTestApp, TestApp } from './utils/test-app';

describe('health, metrics, OpenAPI and logs (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('reports liveness and database readiness', async () => {
    await t.http.get('/health/live').expect(200, { status: 'ok' });
    const ready = await t.http.get('/health/ready').expect(200);
    expect(ready.body.details.database.status).toBe('up');
  });

  it('exposes Prometheus metrics with an HTTP histogram by route template and status', async () => {
    const tenant = (await t.http.post('/v1/tenants').set('x-api-key', t.adminKey).send({ name: 'metrics' }).expect(201)).body;
    await t.http.get(`/v1/tenants/${tenant.id}`).set('x-api-key', t.adminKey).expect(200);
    const res = await t.http.get('/metrics').expect(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.text).toContain('process_cpu_user_seconds_total');
    expect(res.text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/v1\/tenants\/:tenantId",status_code="200"\} 1/);
    expect(res.text).not.toContain(tenant.id);
  });

  it('documents every route in /docs-json with the X-Api-Key scheme, and serves Swagger UI', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    expect(doc.components.securitySchemes['api-key']).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-Api-Key' });
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries<Record<string, unknown>>(doc.paths)) {
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    // Every route Fastify serves from our controllers (not the docs themselves) must be documented.
    const fastify = t.tessera.app.getHttpAdapter().getInstance();
    const served = fastify.printRoutes({ commonPrefix: false }).split('\n').filter(Boolean);
    expect(served.length).toBeGreaterThan(0);
    // The HTTP surface of docs/http-api.md.
    const expected = [
      'POST /v1/tenants',
      'GET /v1/tenants',
      'GET /v1/tenants/{tenantId}',
      'PATCH /v1/tenants/{tenantId}',
      'DELETE /v1/tenants/{tenantId}',
      'POST /v1/tenants/{tenantId}/api-keys',
      'GET /v1/tenants/{tenantId}/api-keys',
      'DELETE /v1/tenants/{tenantId}/api-keys/{id}',
      'GET /v1/signing-keys',
      'POST /v1/signing-keys/rotate',
      'POST /v1/tenants/{tenantId}/jwt-keys',
      'GET /v1/tenants/{tenantId}/jwt-keys',
      'GET /v1/tenants/{tenantId}/jwt-keys/{kid}',
      'PATCH /v1/tenants/{tenantId}/jwt-keys/{kid}',
      'DELETE /v1/tenants/{tenantId}/jwt-keys/{kid}',
      'GET /v1/tenants/{tenantId}/jwks.json',
      'POST /v1/tenants/{tenantId}/tokens',
      'POST /v1/tenants/{tenantId}/clients',
      'GET /v1/tenants/{tenantId}/clients',
      'DELETE /v1/tenants/{tenantId}/clients/{clientId}',
      'POST /v1/tenants/{tenantId}/subjects/{sub}/revoke',
      'GET /v1/tenants/{tenantId}/audit-events',
      'GET /v1/audit-events',
      'POST /oauth/token',
      'POST /oauth/revoke',
      'POST /oauth/introspect',
      'GET /v1/auth/verify',
      'GET /v1/me',
      'GET /.well-known/jwks.json',
      'GET /.well-known/oauth-authorization-server',
      'GET /.well-known/openid-configuration',
      'GET /health/live',
      'GET /health/ready',
      'GET /metrics',
    ];
    for (const route of expected) expect(documented).toContain(route);
    const ui = await t.http.get('/docs').redirects(1);
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
  });
});
