import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Clock } from '../src/common/clock';
import { AppConfig } from '../src/config/app-config';
import { parseForwardedSource } from '../src/config/forward-auth/forwarded-source';
import { REGISTERED_KEY_CACHE_TTL_MS } from '../src/verification/registered-key-resolver';
import { readmeNginxSnippet, startNginx } from './utils/nginx';
import { waitFor } from './utils/process';
import { startTestAppBehindProxy, TcpProxy } from './utils/tcp-proxy';
import { startTestApp, TestApp } from './utils/test-app';
import { signTestJwt } from './utils/test-jwt';
import { ampersandClaims, createTenant, issueToken, registerKey, TestRegisteredKey, TestTenant } from './utils/verification-fixtures';

const PUBLIC_URL = 'https://tessera.test';
const RULES = [
  { method: 'GET', path: '/orders/*', scopes: ['orders:read'] },
  { method: '*', path: '/orders/**', scopes: ['orders:write'] },
  { method: '*', path: '/open/**', scopes: [] },
];

describe('forward-auth: GET /v1/auth/verify (e2e)', () => {
  let t: TestApp;
  let tenant: TestTenant;
  let key: TestRegisteredKey;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-fa-e2e-'));
    const rulesFile = join(dir, 'rules.json');
    writeFileSync(rulesFile, JSON.stringify(RULES));
    t = await startTestApp({
      env: {
        PUBLIC_URL,
        FORWARD_AUTH_COOKIE: 'tessera_session',
        FORWARD_AUTH_HEADERS:
          'sub:x-user-id,tenant_id:x-tenant-id,scope:x-scope,client_id:x-client-id,groupRef:x-group-ref,consumerRef:x-consumer-ref',
        FORWARD_AUTH_RULES_FILE: rulesFile,
      },
    });
    tenant = await createTenant(t, 'forward-auth');
    key = await registerKey(t, tenant);
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => t.close());

  // With a rules file configured, the gateway must say what is being accessed (FORWARD_AUTH_SOURCE=nginx by
  // default: X-Original-*); /open/** needs no scope.
  const OPEN = { 'x-original-method': 'GET', 'x-original-uri': '/open/page' };
  /** Runs `fn` with another FORWARD_AUTH_SOURCE (the config is read per request). */
  async function withSource(name: string, fn: () => Promise<void>) {
    const forwardAuth = t.tessera.app.get(AppConfig).forwardAuth;
    const before = forwardAuth.source;
    forwardAuth.source = parseForwardedSource(name);
    try {
      await fn();
    } finally {
      forwardAuth.source = before;
    }
  }
  const verify = (token?: string, headers: Record<string, string> = OPEN) => {
    const req = t.http.get('/v1/auth/verify').set(headers);
    return token === undefined ? req : req.set('authorization', `Bearer ${token}`);
  };

  async function expectRefused(token: string, code: string, status = 401) {
    const res = await verify(token);
    expect({ status: res.status, body: res.body }).toEqual({
      status,
      body: { statusCode: status, error: 'unauthorized', code, message: expect.any(String) },
    });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="tessera", error="invalid_token", error_description="[^"]+"$/);
    return res;
  }

  it('passes the Ampersand token (RS256, typ JWT, kid; sub, groupRef, consumerRef, iat, exp = iat + 600) with claim headers', async () => {
    const token = key.sign(ampersandClaims());
    const res = await verify(token).expect(200);
    expect(res.headers).toMatchObject({
      'x-user-id': 'user-7',
      'x-tenant-id': tenant.id,
      'x-group-ref': 'group-1',
      'x-consumer-ref': 'consumer-9',
      'cache-control': 'no-store',
    });
    expect(res.headers['x-scope']).toBeUndefined();
    expect(res.text).toBe('');
    expect(t.logs()).not.toContain(token);
  });

  it('passes Tessera’s own access token, from the Authorization header or the configured cookie', async () => {
    const { access_token } = await issueToken(t, tenant, { sub: 'user-1', scope: 'orders:read profile' });
    const res = await verify(access_token).expect(200);
    expect(res.headers).toMatchObject({
      'x-user-id': 'user-1',
      'x-tenant-id': tenant.id,
      'x-scope': 'orders:read profile',
      'x-client-id': tenant.id,
    });
    const viaCookie = await t.http.get('/v1/auth/verify').set(OPEN).set('cookie', `other=1; tessera_session=${access_token}`).expect(200);
    expect(viaCookie.headers['x-user-id']).toBe('user-1');
  });

  it('answers 401 MISSING_TOKEN with a bare Bearer challenge when there is no token', async () => {
    const res = await verify().expect(401);
    expect(res.body).toEqual({ statusCode: 401, error: 'unauthorized', code: 'MISSING_TOKEN', message: 'A bearer token is required' });
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tessera"');
    await verify(undefined, { ...OPEN, authorization: 'Basic dXNlcjpwYXNz' }).expect(401);
  });

  it('refuses every rule violation of registered-key tokens with its code', async () => {
    const now = Math.floor(Date.now() / 1000);
    const other = await createTenant(t, 'forward-auth-other');
    const cases: Array<[string, string, string]> = [
      ['typ dpop+jwt', key.sign(ampersandClaims(), { typ: 'dpop+jwt' }), 'INVALID_TOKEN_TYPE'],
      ['typ logout+jwt', key.sign(ampersandClaims(), { typ: 'logout+jwt' }), 'INVALID_TOKEN_TYPE'],
      ['typ secevent+jwt', key.sign(ampersandClaims(), { typ: 'secevent+jwt' }), 'INVALID_TOKEN_TYPE'],
      ['no sub', key.sign(ampersandClaims({ sub: undefined })), 'MALFORMED_TOKEN'],
      ['no iat', key.sign(ampersandClaims({ iat: undefined })), 'MALFORMED_TOKEN'],
      ['no exp', key.sign(ampersandClaims({ exp: undefined })), 'MALFORMED_TOKEN'],
      ['exp − iat = 601 s', key.sign(ampersandClaims({ iat: now, exp: now + 601 })), 'MALFORMED_TOKEN'],
      ['iss of another tenant', key.sign(ampersandClaims({ iss: other.id })), 'INVALID_ISSUER'],
      ['tenant_id of another tenant', key.sign(ampersandClaims({ tenant_id: other.id })), 'INVALID_ISSUER'],
      ['an aud not accepted', key.sign(ampersandClaims({ aud: 'https://elsewhere.example' })), 'INVALID_AUDIENCE'],
      [
        'an assertion’s aud (token endpoint)',
        key.sign(ampersandClaims({ aud: `${PUBLIC_URL}/oauth/token`, jti: 'x' })),
        'INVALID_AUDIENCE',
      ],
      ['expired beyond the tolerance', key.sign(ampersandClaims({ iat: now - 600, exp: now - 31 })), 'TOKEN_EXPIRED'],
      ['nbf beyond the tolerance', key.sign(ampersandClaims({ nbf: now + 60 })), 'TOKEN_NOT_YET_VALID'],
      [
        'alg RS512 on an RS256 key',
        signTestJwt({ alg: 'RS512', typ: 'JWT', kid: key.kid }, ampersandClaims(), key.privateKey),
        'ALGORITHM_NOT_ALLOWED',
      ],
      [
        'signed by another key',
        signTestJwt({ alg: 'RS256', kid: key.kid }, ampersandClaims(), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
        'INVALID_SIGNATURE',
      ],
    ];
    for (const [name, token, code] of cases) {
      const res = await verify(token);
      expect({ name, status: res.status, code: res.body.code }).toEqual({ name, status: 401, code });
    }
    // iss and tenant_id equal to the key's tenant, and an accepted aud, are fine.
    await verify(key.sign(ampersandClaims({ iss: tenant.id, tenant_id: tenant.id, aud: PUBLIC_URL }))).expect(200);
  });

  it('refuses hostile tokens with the right code and never a 5xx', async () => {
    const good = key.sign(ampersandClaims());
    const [h, p, s] = good.split('.');
    const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
    // The registered key's own public PEM, as a key-confusion attacker would use it.
    const registeredPem = createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' }) as string;
    // A local server proves that jku/x5u URLs are never fetched.
    let fetched = 0;
    const bait = createServer((_req, res) => {
      fetched++;
      res.end('{"keys":[]}');
    });
    await new Promise<void>((resolve) => bait.listen(0, '127.0.0.1', resolve));
    const baitUrl = `http://127.0.0.1:${(bait.address() as AddressInfo).port}`;
    const { refresh_token } = await issueToken(t, tenant);
    const cases: Array<[string, string, string]> = [
      ['alg none', `${b64({ alg: 'none', kid: key.kid })}.${p}.`, 'ALGORITHM_NOT_ALLOWED'],
      ['alg NONE', `${b64({ alg: 'NONE', kid: key.kid })}.${p}.`, 'ALGORITHM_NOT_ALLOWED'],
      ['alg nOnE with a signature', `${b64({ alg: 'nOnE', kid: key.kid })}.${p}.${s}`, 'ALGORITHM_NOT_ALLOWED'],
      [
        'HS256 with the key’s public PEM as secret',
        signTestJwt({ alg: 'HS256', kid: key.kid }, ampersandClaims(), registeredPem),
        'ALGORITHM_NOT_ALLOWED',
      ],
      [
        'HS256 with the PEM and leading whitespace',
        signTestJwt({ alg: 'HS256', kid: key.kid }, ampersandClaims(), `  \n${registeredPem}`),
        'ALGORITHM_NOT_ALLOWED',
      ],
      ['two alg members in the header', `${b64(`{"alg":"RS256","alg":"none","kid":"${key.kid}"}`)}.${p}.${s}`, 'MALFORMED_TOKEN'],
      ['jku header', key.sign(ampersandClaims(), { jku: `${baitUrl}/jwks.json` }), 'MALFORMED_TOKEN'],
      ['x5u header', key.sign(ampersandClaims(), { x5u: `${baitUrl}/cert.pem` }), 'MALFORMED_TOKEN'],
      ['a refresh token used as a bearer', refresh_token!, 'MALFORMED_TOKEN'],
      ['embedded jwk', key.sign(ampersandClaims(), { jwk: { kty: 'oct', k: 'AAAA' } }), 'MALFORMED_TOKEN'],
      ['unknown crit', key.sign(ampersandClaims(), { crit: ['x'], x: 1 }), 'MALFORMED_TOKEN'],
      ['b64 false', key.sign(ampersandClaims(), { b64: false }), 'MALFORMED_TOKEN'],
      ['over 8 KB', key.sign(ampersandClaims({ pad: 'x'.repeat(8200) })), 'MALFORMED_TOKEN'],
      ['five parts (JWE)', `${h}.${p}.${s}.${s}.${s}`, 'MALFORMED_TOKEN'],
      ['padding in base64url', `${h}=.${p}.${s}`, 'MALFORMED_TOKEN'],
      ['+ and / in base64url', `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}x+/`, 'MALFORMED_TOKEN'],
      ['a non-JSON header', `${b64('not json')}.${p}.${s}`, 'MALFORMED_TOKEN'],
      ['duplicate sub', `${h}.${b64('{"sub":"a","sub":"admin","iat":1,"exp":2}')}.${s}`, 'MALFORMED_TOKEN'],
      ['exp as a string', key.sign(ampersandClaims({ exp: String(Math.floor(Date.now() / 1000) + 60) })), 'MALFORMED_TOKEN'],
      ['exp beyond 2^53', key.sign({ ...ampersandClaims(), exp: 2 ** 60 }), 'MALFORMED_TOKEN'],
      ['kid with path traversal', key.sign(ampersandClaims(), { kid: '../../../../etc/passwd' }), 'UNKNOWN_KEY'],
      ['kid with SQL', key.sign(ampersandClaims(), { kid: "x' OR '1'='1" }), 'UNKNOWN_KEY'],
      ['kid of 43 random characters', key.sign(ampersandClaims(), { kid: 'Z'.repeat(43) }), 'UNKNOWN_KEY'],
      ['tampered payload', `${h}.${b64({ ...ampersandClaims(), sub: 'admin' })}.${s}`, 'INVALID_SIGNATURE'],
      ['not a JWT at all', 'hello', 'MALFORMED_TOKEN'],
    ];
    for (const [name, token, code] of cases) {
      const res = await verify(token);
      expect({ name, status: res.status, code: res.body.code }).toEqual({ name, status: 401, code });
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    }
    await new Promise((resolve) => bait.close(resolve));
    expect(fetched).toBe(0);
  });

  it('refuses an ES256 token whose signature is r = s = 0', async () => {
    const es = await registerKey(t, tenant, 'ES256');
    const token = es.sign(ampersandClaims());
    await verify(token).expect(200);
    await expectRefused(`${token.slice(0, token.lastIndexOf('.'))}.${Buffer.alloc(64).toString('base64url')}`, 'INVALID_SIGNATURE');
  });

  it('applies the scope rules to the method and URI of FORWARD_AUTH_SOURCE (nginx: X-Original-*)', async () => {
    const { access_token: reader } = await issueToken(t, tenant, { scope: 'orders:read' });
    const { access_token: writer } = await issueToken(t, tenant, { scope: 'orders:read orders:write' });
    const at = (method: string, uri: string) => ({ 'x-original-method': method, 'x-original-uri': uri });

    await verify(reader, at('GET', '/orders/17?expand=items')).expect(200);
    await verify(reader, at('GET', '/open/anything/at/all')).expect(200);
    await verify(key.sign(ampersandClaims()), at('GET', '/open/x')).expect(200);

    const denied = await verify(reader, at('POST', '/orders/17')).expect(403);
    expect(denied.body).toEqual({
      statusCode: 403,
      error: 'forbidden',
      code: 'INSUFFICIENT_SCOPE',
      message: 'Token lacks a required scope: orders:write',
    });
    expect(denied.headers['www-authenticate']).toBe(
      'Bearer realm="tessera", error="insufficient_scope", error_description="Token lacks a required scope: orders:write", scope="orders:write"',
    );
    await verify(writer, at('POST', '/orders/17')).expect(200);
    await verify(reader, at('GET', '/orders/17/items')).expect(200); // a trailing * is a prefix
    // A registered-key token has no scope: a rule asking for one refuses it, whatever the path tricks.
    const unscoped = key.sign(ampersandClaims());
    await verify(unscoped, at('GET', '/orders/1')).expect(403);
    for (const trick of [
      '/open/..%2Forders/17',
      '/open/%2e%2e/orders/17',
      '//orders//17',
      '/%6Frders/17',
      '\\orders\\17',
      '/open/../orders/17?x=/open/',
    ]) {
      const res = await verify(unscoped, at('GET', trick));
      expect({ trick, status: res.status }).toEqual({ trick, status: 403 });
    }
    await verify(reader, at('DELETE', '/open/..%2Forders/17')).expect(403);
    // With rules configured, a request without a forwarded URI is refused.
    expect((await verify(reader, { 'x-original-method': 'GET' }).expect(403)).body.code).toBe('INSUFFICIENT_SCOPE');
  });

  // Changed with docs/adr/0009: before, a path no rule named was open to any valid token.
  it('denies a path that no rule names, for every token', async () => {
    const { access_token: writer } = await issueToken(t, tenant, { scope: 'orders:read orders:write' });
    const res = await verify(writer, { 'x-original-method': 'GET', 'x-original-uri': '/admin/users' }).expect(403);
    expect(res.body).toEqual({
      statusCode: 403,
      error: 'forbidden',
      code: 'INSUFFICIENT_SCOPE',
      message: 'No forward-auth rule names this method and path; a rule with "scopes": [] opens a path',
    });
  });

  // Changed with docs/adr/0009: before, X-Forwarded-* won over X-Original-*, so a client behind nginx chose the path.
  it('refuses a conflicting second source with 400 FORWARDED_REQUEST_CONFLICT, and reads traefik’s headers only when told to', async () => {
    const { access_token: reader } = await issueToken(t, tenant, { scope: 'orders:read' });
    const spoofed = {
      'x-original-method': 'DELETE',
      'x-original-uri': '/orders/1',
      'x-forwarded-method': 'GET',
      'x-forwarded-uri': '/open/page',
    };
    const conflict = await verify(reader, spoofed).expect(400);
    expect(conflict.body).toEqual({
      statusCode: 400,
      error: 'bad_request',
      code: 'FORWARDED_REQUEST_CONFLICT',
      message: expect.stringMatching(
        /^X-Forwarded-Method names another request than X-Original-Method \/ X-Original-Uri \(FORWARD_AUTH_SOURCE=nginx\)/,
      ),
    });
    // X-Forwarded-* alone, under the nginx source, is a second source too: refused rather than believed.
    expect((await verify(reader, { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/open/page' }).expect(400)).body.code).toBe(
      'FORWARDED_REQUEST_CONFLICT',
    );
    // The same header twice cannot be two requests at once.
    const twice = await t.http
      .get('/v1/auth/verify')
      .set('authorization', `Bearer ${reader}`)
      .set('x-original-method', 'GET')
      .set('x-original-uri', ['/open/a', '/orders/1'] as unknown as string); // sent as two header lines
    expect({ status: twice.status, code: twice.body.code }).toEqual({ status: 400, code: 'FORWARDED_REQUEST_CONFLICT' });

    await withSource('traefik', async () => {
      await verify(reader, { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/orders/1' }).expect(200);
      await verify(reader, { 'x-forwarded-method': 'DELETE', 'x-forwarded-uri': '/orders/1' }).expect(403);
      expect(
        (await verify(reader, { 'x-forwarded-method': 'DELETE', 'x-forwarded-uri': '/orders/1', 'x-original-uri': '/open/x' }).expect(400))
          .body.code,
      ).toBe('FORWARDED_REQUEST_CONFLICT');
    });
    await withSource('headers:x-gw-method,x-gw-uri', async () => {
      await verify(reader, { 'x-gw-method': 'GET', 'x-gw-uri': '/orders/1' }).expect(200);
      await verify(reader, { 'x-gw-method': 'GET', 'x-gw-uri': '/orders/1', 'x-original-uri': '/orders/1' }).expect(200); // same request: no conflict
    });
  });

  it('refuses a forwarded path over 4096 characters with 414, and answers a hostile path for a many-wildcard rule at once', async () => {
    const { access_token: reader } = await issueToken(t, tenant, { scope: 'orders:read' });
    const long = await verify(reader, { 'x-original-method': 'GET', 'x-original-uri': `/open/${'a'.repeat(4096)}` }).expect(414);
    expect(long.body).toEqual({
      statusCode: 414,
      error: 'uri_too_long',
      code: 'FORWARDED_URI_TOO_LONG',
      message: 'The forwarded path is over 4096 characters',
    });
    await verify(reader, { 'x-original-method': 'GET', 'x-original-uri': `/open${'/x'.repeat(2000)}` }).expect(200);
  });

  it('takes the original method and path from the URL for Envoy ext_authz (FORWARD_AUTH_SOURCE=envoy, path_prefix /v1/auth/verify)', async () => {
    const { access_token: reader } = await issueToken(t, tenant, { scope: 'orders:read' });
    const bearer = { authorization: `Bearer ${reader}` };
    // Changed with docs/adr/0009: the path form belongs to the envoy source only.
    const wrongSource = await t.http.get('/v1/auth/verify/orders/17').set(bearer).expect(400);
    expect(wrongSource.body.message).toMatch(/set FORWARD_AUTH_SOURCE=envoy$/);
    await withSource('envoy', async () => {
      const ok = await t.http.get('/v1/auth/verify/orders/17?x=1').set(bearer).expect(200);
      expect(ok.headers['x-user-id']).toBe('user-1');
      await t.http.post('/v1/auth/verify/orders/17').set(bearer).expect(403);
      await t.http.delete('/v1/auth/verify/open/page').set(bearer).expect(200);
      // Forwarded headers naming another request than the one Envoy put in the URL are refused.
      expect(
        (
          await t.http
            .post('/v1/auth/verify/orders/17')
            .set({ ...bearer, ...OPEN })
            .expect(400)
        ).body.code,
      ).toBe('FORWARDED_REQUEST_CONFLICT');
      expect((await t.http.get('/v1/auth/verify/orders/17').expect(401)).body.code).toBe('MISSING_TOKEN');
      // The plain route has no path under this source: refused while rules are configured.
      await t.http.get('/v1/auth/verify').set(bearer).expect(403);
    });
  });

  it('answers TOKEN_REVOKED within a second of a revocation', async () => {
    const { access_token } = await issueToken(t, tenant);
    await verify(access_token).expect(200);
    await t.http.post('/oauth/revoke').set(tenant.apiKey).send({ token: access_token }).expect(200);
    const started = Date.now();
    let res = await verify(access_token);
    for (let i = 0; i < 20 && res.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      res = await verify(access_token);
    }
    expect(Date.now() - started).toBeLessThan(1000);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('TOKEN_REVOKED');
  });

  it('refuses the tokens of a deleted registered key once the 5 s key cache has passed', async () => {
    const doomed = await registerKey(t, tenant, 'EdDSA');
    const token = doomed.sign(ampersandClaims());
    await verify(token).expect(200);
    await t.http.delete(`/v1/tenants/${tenant.id}/jwt-keys/${doomed.kid}`).set(tenant.apiKey).expect(204);
    const clock = t.tessera.app.get(Clock);
    const later = new Date(Date.now() + REGISTERED_KEY_CACHE_TTL_MS + 1000);
    jest.spyOn(clock, 'now').mockReturnValue(later);
    await expectRefused(token, 'UNKNOWN_KEY');
  });

  it('refuses the tokens of a disabled tenant (denylist) and accepts them again when re-enabled', async () => {
    const paused = await createTenant(t, 'forward-auth-paused');
    const pausedKey = await registerKey(t, paused);
    const { access_token } = await issueToken(t, paused);
    const registered = pausedKey.sign(ampersandClaims());
    await verify(access_token).expect(200);
    await verify(registered).expect(200);
    // The tenant block reaches the denylist through Postgres NOTIFY: within a second.
    await t.http.patch(`/v1/tenants/${paused.id}`).set({ 'x-api-key': t.adminKey }).send({ disabled: true }).expect(200);
    await waitFor(async () => (await verify(access_token)).status === 401, 1000, 'the tenant block to reach the denylist');
    await expectRefused(access_token, 'TOKEN_REVOKED');
    // A disabled tenant's registered keys may stop resolving (UNKNOWN_KEY) before the denylist answers (TOKEN_REVOKED): both refuse.
    const refused = await verify(registered);
    expect({ status: refused.status, known: ['TOKEN_REVOKED', 'UNKNOWN_KEY'].includes(refused.body.code) }).toEqual({
      status: 401,
      known: true,
    });
    await t.http.patch(`/v1/tenants/${paused.id}`).set({ 'x-api-key': t.adminKey }).send({ disabled: false }).expect(200);
    await waitFor(async () => (await verify(access_token)).status === 200, 1000, 'the tenant to be enabled again');
    await verify(registered).expect(200);
  });

  it('percent-encodes claim values that could split a header', async () => {
    const token = key.sign(ampersandClaims({ sub: 'eve\r\nx-admin: true', groupRef: 'é' }));
    const res = await verify(token).expect(200);
    expect(res.headers['x-user-id']).toBe('eve%0D%0Ax-admin: true');
    expect(res.headers['x-group-ref']).toBe('%C3%A9');
    expect(res.headers['x-admin']).toBeUndefined();
  });

  it('is listed in the OpenAPI document', async () => {
    const doc = await t.http.get('/docs-json').expect(200);
    expect(doc.body.paths['/v1/auth/verify'].get.responses).toHaveProperty('200');
    expect(doc.body.paths['/v1/auth/verify'].get.responses).toHaveProperty('401');
    expect(doc.body.paths['/v1/auth/verify'].get.responses).toHaveProperty('403');
  });

  describe('behind a real nginx with auth_request', () => {
    let upstream: Server;
    let seen: IncomingHttpHeaders[];
    let nginx: Awaited<ReturnType<typeof startNginx>>;
    const viaNginx = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
      fetch(`http://127.0.0.1:${nginx.port}${path}`, { method, headers });

    beforeAll(async () => {
      seen = [];
      upstream = createServer((req, res) => {
        seen.push(req.headers);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('upstream');
      });
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      const upstreamPort = (upstream.address() as AddressInfo).port;
      await t.tessera.app.listen(0, '127.0.0.1');
      const tesseraPort = (t.tessera.app.getHttpServer().address() as AddressInfo).port;
      // The server block is the test's; everything inside is README.md's snippet, verbatim but for the two addresses.
      const snippet = readmeNginxSnippet('forward-auth-nginx', {
        'http://tessera:3000': `http://127.0.0.1:${tesseraPort}`,
        'http://app': `http://127.0.0.1:${upstreamPort}`,
      });
      nginx = await startNginx((port) => `server {\n    listen 127.0.0.1:${port};\n${snippet}\n  }`);
    });
    afterAll(async () => {
      await nginx?.stop();
      await new Promise((resolve) => upstream?.close(resolve));
    });

    it('answers 401 from nginx without a token, and lets a valid token through with x-user-id to the upstream', async () => {
      const refused = await viaNginx('/orders/1', { 'x-user-id': 'spoofed-admin' });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('server')).toMatch(/^nginx/);
      expect(seen).toHaveLength(0);

      const { access_token } = await issueToken(t, tenant, { sub: 'user-via-nginx', scope: 'orders:read' });
      const passed = await viaNginx('/orders/1', { authorization: `Bearer ${access_token}`, 'x-user-id': 'spoofed-admin' });
      expect({ status: passed.status, body: await passed.text() }).toEqual({ status: 200, body: 'upstream' });
      expect(seen.at(-1)).toMatchObject({ 'x-user-id': 'user-via-nginx', 'x-tenant-id': tenant.id });
    });

    it('passes the Ampersand token and applies the scope rules to the original method and URI', async () => {
      const passed = await viaNginx('/open/page', { authorization: `Bearer ${key.sign(ampersandClaims())}` });
      expect(passed.status).toBe(200);
      expect(seen.at(-1)).toMatchObject({ 'x-user-id': 'user-7', 'x-tenant-id': tenant.id });

      const { access_token } = await issueToken(t, tenant, { scope: 'orders:read' });
      const count = seen.length;
      expect((await viaNginx('/orders/1', { authorization: `Bearer ${access_token}` }, 'DELETE')).status).toBe(403);
      expect((await viaNginx('/orders/1', { authorization: `Bearer ${key.sign(ampersandClaims(), { alg: 'none' })}` })).status).toBe(401);
      expect(seen).toHaveLength(count);
      expect(nginx.errorLog()).not.toMatch(/\[(error|crit|emerg)\]/);
    });

    it('applies the rules of the real path whatever X-Forwarded-* and X-Original-* the client sends', async () => {
      const { access_token: reader } = await issueToken(t, tenant, { sub: 'reader', scope: 'orders:read' });
      const unscoped = key.sign(ampersandClaims());
      const spoof = {
        'x-original-method': 'GET',
        'x-original-uri': '/open/page',
        'x-forwarded-method': 'GET',
        'x-forwarded-uri': '/open/page',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'evil.example',
        'x-user-id': 'spoofed-admin',
        'x-scope': 'orders:write',
      };
      const count = seen.length;
      // DELETE /orders/1 needs orders:write: the spoofed /open/page would have opened it.
      expect((await viaNginx('/orders/1', { ...spoof, authorization: `Bearer ${reader}` }, 'DELETE')).status).toBe(403);
      // GET /orders/1 needs orders:read, which the registered-key token lacks.
      expect((await viaNginx('/orders/1', { ...spoof, authorization: `Bearer ${unscoped}` })).status).toBe(403);
      // A path no rule names stays closed, spoofed headers or not.
      expect((await viaNginx('/admin', { ...spoof, authorization: `Bearer ${reader}` })).status).toBe(403);
      expect(seen).toHaveLength(count);

      // The real path's rules still let the reader through, and the upstream sees Tessera's claims, not the client's.
      const passed = await viaNginx('/orders/1', { ...spoof, authorization: `Bearer ${reader}` });
      expect(passed.status).toBe(200);
      expect(seen.at(-1)).toMatchObject({
        'x-user-id': 'reader',
        'x-tenant-id': tenant.id,
        'x-scope': 'orders:read',
        'x-client-id': tenant.id,
      });
      // A claim the token lacks leaves no client value behind either.
      expect((await viaNginx('/open/page', { ...spoof, authorization: `Bearer ${unscoped}` })).status).toBe(200);
      expect(seen.at(-1)).toMatchObject({ 'x-user-id': 'user-7' });
      expect(seen.at(-1)!['x-scope']).toBeUndefined();
    });
  });
});

describe('forward-auth while the database is away (e2e)', () => {
  let t: TestApp;
  let proxy: TcpProxy;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ t, proxy, close } = await startTestAppBehindProxy({ PUBLIC_URL }));
  });
  afterAll(() => close());

  it('keeps verifying from memory (own keys, cached registered keys, denylist), answers 503 for what needs the database, and recovers', async () => {
    const tenant = await createTenant(t, 'outage');
    const key = await registerKey(t, tenant);
    const other = await registerKey(t, tenant, 'ES256');
    const { access_token } = await issueToken(t, tenant, { sub: 'user-outage' });
    const { access_token: revoked } = await issueToken(t, tenant);
    const registered = key.sign(ampersandClaims());
    const bearer = (token: string) => t.http.get('/v1/auth/verify').set('authorization', `Bearer ${token}`);
    await bearer(access_token).expect(200);
    await bearer(registered).expect(200);
    await t.http.post('/oauth/revoke').set(tenant.apiKey).send({ token: revoked }).expect(200);

    await proxy.down();
    const own = await bearer(access_token).expect(200);
    expect(own.headers['x-user-id']).toBe('user-outage');
    await bearer(registered).expect(200); // its key was looked up a moment ago
    expect((await bearer(revoked).expect(401)).body.code).toBe('TOKEN_REVOKED');
    expect((await bearer('garbage').expect(401)).body.code).toBe('MALFORMED_TOKEN');
    // A registered key not cached yet needs the database: 503, neither a 401 nor a 500.
    const uncached = await bearer(other.sign(ampersandClaims()));
    expect({ status: uncached.status, code: uncached.body.code }).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    expect((await t.http.post(`/v1/tenants/${tenant.id}/tokens`).set(tenant.apiKey).send({ sub: 'x' })).status).toBe(503);

    await proxy.up();
    await waitFor(async () => (await t.http.get('/health/ready')).status === 200, 20000, 'readiness after the database returns');
    await bearer(other.sign(ampersandClaims())).expect(200);
    const { access_token: fresh } = await issueToken(t, tenant);
    await bearer(fresh).expect(200);
  });
});
