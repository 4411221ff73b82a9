import type { AddressInfo } from 'node:net';
import { RawAnswer, rawRequest } from './utils/raw-http';
import { startTestApp, TestApp } from './utils/test-app';
import { createTenant, TestTenant } from './utils/verification-fixtures';

const PUBLIC_URL = 'https://tessera.test';

/**
 * Issue 11.7: hostile input never reaches a 500. Each answer is a 4xx in the design's shape
 * ({statusCode, error, code, message}; RFC 6749 {error, error_description} on /oauth/*), and the
 * service stays ready. Requests go over a raw socket where supertest would clean them up
 * (invalid percent-encoding, raw bytes in paths and headers).
 */
describe('hostile input (e2e)', () => {
  let t: TestApp;
  let tenant: TestTenant;
  let port: number;
  const admin = () => ({ 'x-api-key': t.adminKey });

  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_URL, BODY_LIMIT_BYTES: String(1024 * 1024) } });
    tenant = await createTenant(t, 'hostile');
    const server = t.tessera.app.getHttpServer();
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => t.close());

  const raw = (method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string) =>
    rawRequest(port, method, path, headers, body);

  function expectDesignError(path: string, answer: RawAnswer, status?: number, code?: string): void {
    // One readable line per failure: the request and what came back.
    const summary = `${path} → ${answer.status} ${answer.body.slice(0, 300)}`;
    expect(answer.status >= 400 && answer.status < 500 ? 'a 4xx' : summary).toBe('a 4xx');
    if (status !== undefined) expect(summary).toMatch(new RegExp(`^.* → ${status} `, 's'));
    const body = JSON.parse(answer.body) as Record<string, unknown>;
    if (path.startsWith('/oauth/')) {
      expect(body).toEqual({ error: expect.any(String), error_description: expect.any(String) });
    } else {
      expect(body).toEqual({
        statusCode: answer.status,
        error: expect.any(String),
        code: code ?? expect.any(String),
        message: expect.any(String),
      });
    }
  }

  const nested = (depth: number, leaf = '1') => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
  const nestedArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

  describe('deeply nested JSON', () => {
    it.each([
      ['POST', '/v1/tenants', () => `{"name":${nested(5000)}}`],
      ['POST', '/v1/tenants', () => nestedArray(100_000)],
      ['POST', '/v1/tenants/:tenant/tokens', () => `{"sub":"u","claims":${nested(3000)}}`],
      ['POST', '/v1/tenants/:tenant/clients', () => `{"name":"c","scopes":${nestedArray(10_000)}}`],
      ['POST', '/oauth/token', () => `{"grant_type":${nested(50_000)}}`],
      ['POST', '/oauth/introspect', () => nestedArray(200_000)],
    ])('%s %s answers 400, not 500', async (method, route, body) => {
      const path = route.replace(':tenant', tenant.id);
      const answer = await raw(method, path, { ...admin(), 'content-type': 'application/json' }, body());
      expectDesignError(path, answer, 400);
    });

    it('still accepts JSON nested within the limit (custom claims a few levels deep)', async () => {
      const res = await t.http
        .post(`/v1/tenants/${tenant.id}/tokens`)
        .set(admin())
        .send({ sub: 'u', claims: { org: { team: { role: ['a'] } } } });
      expect(res.status).toBe(201);
    });
  });

  describe('NUL, control characters and invalid encodings in path parameters and queries', () => {
    const paths = () => [
      `/v1/tenants/${tenant.id}/jwt-keys/%00`,
      `/v1/tenants/${tenant.id}/jwt-keys/abc%00def`,
      `/v1/tenants/${tenant.id}/jwt-keys/%01%1F%7F`,
      `/v1/tenants/${tenant.id}/clients/tcl_%00`,
      `/v1/tenants/${tenant.id}/api-keys/%00`,
      '/v1/tenants/%00',
      '/v1/tenants/%FF%FE',
      '/v1/tenants/%C0%AF',
      '/v1/tenants/%E0%A4%A',
      '/v1/tenants/%ZZ',
      `/v1/tenants/${tenant.id}/jwt-keys/%ED%A0%80`,
      `/v1/tenants/${tenant.id}/audit-events?limit=%FF`,
      `/v1/tenants/${tenant.id}/audit-events?type=%00`,
      `/v1/tenants/${tenant.id}/audit-events?limit=%ZZ`,
      `/v1/tenants/${tenant.id}/audit-events?limit=1e400`,
      `/v1/tenants/${tenant.id}/audit-events?limit=99999999999999999999999`,
      '/v1/tenants?limit=-1&cursor=%00',
      '/v1/audit-events?before=%00',
      '/v1/audit-events?subject=%FF',
    ];

    it('answers GET with a 4xx in the design shape', async () => {
      for (const path of paths()) expectDesignError(path, await raw('GET', path, admin()));
    });

    it('answers subject revocation with a NUL or invalid UTF-8 in :sub with a 4xx', async () => {
      for (const sub of ['%00', 'user%00x', '%FF', '%C3%28', '%1B%5B31m']) {
        const path = `/v1/tenants/${tenant.id}/subjects/${sub}/revoke`;
        expectDesignError(path, await raw('POST', path, { ...admin(), 'content-type': 'application/json' }, '{}'));
      }
    });

    it('answers DELETE and PATCH with hostile ids with a 4xx', async () => {
      for (const path of [
        `/v1/tenants/${tenant.id}/jwt-keys/%00`,
        `/v1/tenants/${tenant.id}/clients/%FF`,
        `/v1/tenants/${tenant.id}/api-keys/%00`,
      ]) {
        expectDesignError(path, await raw('DELETE', path, admin()));
      }
      const patch = `/v1/tenants/${tenant.id}/jwt-keys/%00`;
      expectDesignError(patch, await raw('PATCH', patch, { ...admin(), 'content-type': 'application/json' }, '{"label":"x"}'));
    });
  });

  describe('hostile header values', () => {
    it('answers an API key, bearer token or Basic credentials with raw bytes or control characters with a 4xx', async () => {
      const values = [Buffer.from([0xff, 0xfe, 0x41]).toString('latin1'), 'key\x01\x7f', 'é'.repeat(100), '\t', 'x'.repeat(8000)];
      for (const value of values) {
        // Control characters are refused by Node's parser before the app (400, still the design's shape); raw bytes reach it (401).
        expectDesignError('/v1/tenants', await raw('GET', '/v1/tenants', { 'x-api-key': value }));
        expectDesignError('/v1/auth/verify', await raw('GET', '/v1/auth/verify', { authorization: `Bearer ${value}` }));
        const basic = `Basic ${Buffer.from(`${value}:${value}`, 'latin1').toString('base64')}`;
        expectDesignError(
          '/oauth/token',
          await raw(
            'POST',
            '/oauth/token',
            { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
            'grant_type=client_credentials',
          ),
        );
        expectDesignError(
          '/oauth/introspect',
          await raw('POST', '/oauth/introspect', { 'x-api-key': value, 'content-type': 'application/json' }, '{"token":"x"}'),
        );
      }
    });

    it('answers a cookie with invalid percent-encoding at forward-auth with a 4xx', async () => {
      expectDesignError('/v1/auth/verify', await raw('GET', '/v1/auth/verify', { cookie: 'tessera_session=%ZZ%FF; x=%' }), 401);
    });
  });

  describe('bodies: charsets, invalid UTF-8, huge numbers and strings', () => {
    it('answers a Content-Type charset other than UTF-8 with 415 UNSUPPORTED_MEDIA_TYPE (RFC 6749 shape on /oauth/*)', async () => {
      for (const charset of ['iso-8859-1', 'utf-16', 'latin1', 'windows-1252', 'UTF-7', '"utf-32"']) {
        const json = await raw(
          'POST',
          '/v1/tenants',
          { ...admin(), 'content-type': `application/json; charset=${charset}` },
          '{"name":"x"}',
        );
        expectDesignError('/v1/tenants', json, 415, 'UNSUPPORTED_MEDIA_TYPE');
        const form = await raw(
          'POST',
          '/oauth/token',
          { 'content-type': `application/x-www-form-urlencoded; charset=${charset}` },
          'grant_type=client_credentials',
        );
        expectDesignError('/oauth/token', form, 415);
        expect(JSON.parse(form.body).error).toBe('invalid_request');
        const oauthJson = await raw(
          'POST',
          '/oauth/introspect',
          { ...tenant.apiKey, 'content-type': `application/json; charset=${charset}` },
          '{"token":"x"}',
        );
        expectDesignError('/oauth/introspect', oauthJson, 415);
      }
    });

    it('accepts charset=utf-8 in any case, quoted or not', async () => {
      for (const charset of ['utf-8', 'UTF-8', '"utf-8"', 'utf8']) {
        const name = `charset-${['utf-8', 'UTF-8', '"utf-8"', 'utf8'].indexOf(charset)}`;
        const res = await t.http
          .post('/v1/tenants')
          .set(admin())
          .set('content-type', `application/json; charset=${charset}`)
          .send(JSON.stringify({ name }));
        expect(res.status).toBe(201);
      }
      await t.http
        .post('/oauth/token')
        .set('content-type', 'application/x-www-form-urlencoded; charset=UTF-8')
        .send('grant_type=client_credentials')
        .expect(401);
    });

    it('answers invalid UTF-8 in a JSON or form body with a 4xx', async () => {
      const bad = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28, 0xff, 0xed, 0xa0, 0x80]), Buffer.from('"}')]);
      expectDesignError('/v1/tenants', await raw('POST', '/v1/tenants', { ...admin(), 'content-type': 'application/json' }, bad), 400);
      const form = Buffer.concat([
        Buffer.from('grant_type=client_credentials&client_id='),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('&client_secret=%FF%ZZ'),
      ]);
      expectDesignError('/oauth/token', await raw('POST', '/oauth/token', { 'content-type': 'application/x-www-form-urlencoded' }, form));
    });

    it('answers NUL characters and huge values in JSON fields with a 4xx', async () => {
      const cases: Array<[string, string]> = [
        ['/v1/tenants', '{"name":"a\\u0000b"}'],
        ['/v1/tenants', '{"name":"x","accessTokenMaxTtl":1e400}'],
        ['/v1/tenants', '{"name":"x","accessTokenMaxTtl":99999999999999999999999999}'],
        ['/v1/tenants', '{"name":"x","accessTokenMaxTtl":-1e308}'],
        ['/v1/tenants', `{"name":"${'x'.repeat(500_000)}"}`],
        [`/v1/tenants/${tenant.id}/tokens`, '{"sub":"\\u0000","scope":"a"}'],
        [`/v1/tenants/${tenant.id}/tokens`, '{"sub":"u","accessTokenTtl":1e400}'],
        [`/v1/tenants/${tenant.id}/tokens`, '{"sub":"u","claims":{"k":"\\u0000\\ud800"}}'],
        [`/v1/tenants/${tenant.id}/tokens`, `{"sub":"${'s'.repeat(300_000)}"}`],
        [`/v1/tenants/${tenant.id}/clients`, '{"name":"\\u0000","scopes":["a\\u0000"]}'],
        [`/v1/tenants/${tenant.id}/jwt-keys`, '{"label":"\\u0000","algorithm":"RS256","publicKeyPem":"\\u0000"}'],
        [`/v1/tenants/${tenant.id}/subjects/u/revoke`, '{"reason":"\\u0000"}'],
        ['/oauth/token', '{"grant_type":"refresh_token","refresh_token":"trt_\\u0000"}'],
        ['/oauth/token', '{"grant_type":"client_credentials","client_id":"\\u0000","client_secret":"\\u0000"}'],
        ['/oauth/token', `{"grant_type":"urn:ietf:params:oauth:grant-type:jwt-bearer","assertion":"${'a'.repeat(200_000)}"}`],
        ['/oauth/token', '{"grant_type":1e400}'],
        ['/oauth/introspect', '{"token":"\\u0000.\\u0000.\\u0000"}'],
      ];
      for (const [path, body] of cases) {
        expectDesignError(path, await raw('POST', path, { ...admin(), 'content-type': 'application/json' }, body));
      }
      // A NUL is a malformed request (invalid_request), not a token that "is not one" (RFC 7009 §2.2's 200).
      expectDesignError(
        '/oauth/revoke',
        await raw('POST', '/oauth/revoke', { ...tenant.apiKey, 'content-type': 'application/json' }, '{"token":"\\u0000"}'),
        400,
      );
      expectDesignError(
        '/oauth/token',
        await raw(
          'POST',
          '/oauth/token',
          { 'content-type': 'application/x-www-form-urlencoded' },
          'grant_type=client_credentials&client_id=tcl_%00&client_secret=x',
        ),
        400,
      );
    });
  });

  it('stays ready', async () => {
    await t.http.get('/health/ready').expect(200);
  });
});
