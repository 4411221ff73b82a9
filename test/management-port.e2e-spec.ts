import { createServer } from 'node:net';
import { startTestApp, TestApp } from './utils/test-app';

/** A port nobody listens on right now (bound once by the OS, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * MANAGEMENT_PORT (issue 11, docs/adr/0015): /metrics and the health endpoints on a listener of
 * their own; /metrics then leaves the public port, health stays there for load balancers.
 */
describe('management listener: MANAGEMENT_PORT (e2e)', () => {
  let t: TestApp;
  let port: number;
  const management = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${path}`, init);

  beforeAll(async () => {
    port = await freePort();
    t = await startTestApp({ env: { MANAGEMENT_PORT: String(port), MANAGEMENT_HOST: '127.0.0.1' } });
  });
  afterAll(async () => {
    if (t) await t.close();
  });

  it('serves Prometheus metrics on the management port', async () => {
    await t.http.get('/health/live').expect(200);
    const res = await management('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^# HELP /m);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('serves the same health answers as the public port', async () => {
    const ready = await management('/health/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
    expect((await t.http.get('/health/ready').expect(200)).body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
    const live = await management('/health/live');
    expect({ status: live.status, body: await live.json() }).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('keeps /metrics off the public port (404 in the design shape), health stays on it', async () => {
    const res = await t.http.get('/metrics').expect(404);
    expect(res.body).toEqual({ statusCode: 404, error: 'not_found', code: 'NOT_FOUND', message: 'Not found' });
    await t.http.get('/health/ready').expect(200);
  });

  it('serves nothing else on the management port: other paths 404, other methods 405', async () => {
    const other = await management('/v1/tenants', { headers: { 'x-api-key': t.adminKey } });
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ statusCode: 404, error: 'not_found', code: 'NOT_FOUND', message: expect.any(String) });
    const post = await management('/metrics', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('closes the management listener with the app', async () => {
    await t.close();
    t = undefined as unknown as TestApp;
    await expect(management('/health/live')).rejects.toThrow();
  });
});
