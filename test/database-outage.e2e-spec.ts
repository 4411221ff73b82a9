import { waitFor } from './utils/process';
import { startTestAppBehindProxy, TcpProxy } from './utils/tcp-proxy';
import { TestApp } from './utils/test-app';

describe('database outage (e2e)', () => {
  let t: TestApp;
  let proxy: TcpProxy;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ t, proxy, close } = await startTestAppBehindProxy());
  });
  afterAll(() => close());

  it('answers 503 SERVICE_UNAVAILABLE while the database is away and recovers by itself', async () => {
    const admin = { 'x-api-key': t.adminKey };
    await t.http.post('/v1/tenants').set(admin).send({ name: 'before' }).expect(201);

    await proxy.down();
    const during = await t.http.get('/v1/tenants').set(admin);
    expect(during.status).toBe(503);
    expect(during.body).toEqual({
      statusCode: 503,
      error: 'service_unavailable',
      code: 'SERVICE_UNAVAILABLE',
      message: expect.stringContaining('database'),
    });
    expect(JSON.stringify(during.body)).not.toMatch(/ECONN|SELECT|postgres:\/\//);
    const ready = await t.http.get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.code).toBe('SERVICE_UNAVAILABLE');
    await t.http.get('/health/live').expect(200);

    await proxy.up();
    await waitFor(async () => (await t.http.get('/health/ready')).status === 200, 20000, 'readiness after the database returns');
    const after = await t.http.get('/v1/tenants').set(admin).expect(200);
    expect(after.body.map((x: { name: string }) => x.name)).toContain('before');
  });
});
