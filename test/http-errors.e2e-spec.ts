import { startTestApp, TestApp } from './utils/test-app';

describe('error shape, limits and rate limiting (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: { BODY_LIMIT_BYTES: '4096', RATE_LIMIT_CREDENTIALS_PER_IP: '3', RATE_LIMIT_PER_API_KEY: '5', RATE_LIMIT_WINDOW_SECONDS: '60' },
    });
  });
  afterAll(() => t.close());

  const shape = (status: number, code: string) => ({ statusCode: status, error: expect.any(String), code, message: expect.any(String) });

  it('answers malformed JSON with 400 VALIDATION_FAILED', async () => {
    const res = await t.http
      .post('/v1/tenants')
      .set('x-api-key', t.adminKey)
      .set('content-type', 'application/json')
      .send('{"name":')
      .expect(400);
    expect(res.body).toEqual(shape(400, 'VALIDATION_FAILED'));
  });

  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await t.http
      .post('/v1/tenants')
      .set('x-api-key', t.adminKey)
      .send({ name: 'x'.repeat(10_000) })
      .expect(413);
    expect(res.body).toEqual(shape(413, 'PAYLOAD_TOO_LARGE'));
  });

  it('answers a wrong content type with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    for (const type of ['text/plain', 'application/xml']) {
      const res = await t.http.post('/v1/tenants').set('x-api-key', t.adminKey).set('content-type', type).send('name=x').expect(415);
      expect(res.body).toEqual(shape(415, 'UNSUPPORTED_MEDIA_TYPE'));
    }
  });

  it('answers an unknown route with 404 NOT_FOUND in the same shape', async () => {
    const res = await t.http.get('/v1/nothing-here').expect(404);
    expect(res.body).toEqual({ statusCode: 404, error: 'not_found', code: 'NOT_FOUND', message: 'Not found' });
  });

  it('limits requests per API key with 429 RATE_LIMITED and Retry-After', async () => {
    const tenant = (await t.http.post('/v1/tenants').set('x-api-key', t.adminKey).send({ name: 'limited' }).expect(201)).body;
    const key = (await t.http.post(`/v1/tenants/${tenant.id}/api-keys`).set('x-api-key', t.adminKey).send({}).expect(201)).body.key;
    const statuses: number[] = [];
    let last: { headers: Record<string, string>; body: unknown } | undefined;
    for (let i = 0; i < 7; i++) {
      const res = await t.http.get(`/v1/tenants/${tenant.id}`).set('x-api-key', key);
      statuses.push(res.status);
      last = res;
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses[6]).toBe(429);
    expect(last!.body).toEqual(shape(429, 'RATE_LIMITED'));
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('blocks an IP after repeated wrong keys, even for a correct key, with Retry-After', async () => {
    for (let i = 0; i < 3; i++) {
      await t.http.get('/v1/tenants').set('x-api-key', `wrong-key-${i}`).expect(401);
    }
    const blocked = await t.http.get('/v1/tenants').set('x-api-key', t.adminKey).expect(429);
    expect(blocked.body).toEqual(shape(429, 'RATE_LIMITED'));
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });
});
