import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, INestApplication, Logger } from '@nestjs/common';
import request from 'supertest';
import {
  Auth,
  JwtIssuerOptions,
  JwtVerifier,
  Principal,
  TenantId,
  TokenError,
  TokenPrincipal,
  tesseraIntrospection,
} from '@tessera/nest-guard';
import { TesseraStrategy } from '@tessera/nest-guard/passport';
import { createConsumerApp } from '../examples/consumer/create-consumer-app';
import { createTestKey, signJwt, startTestIssuer, TestIssuer } from '../examples/consumer/test-issuer';

/** Routes the example does not have: an unmarked one (for the global mode) and two scopes at once. */
@Controller('extra')
class ExtraController {
  @Get('unmarked')
  unmarked(): { ok: true } {
    return { ok: true };
  }

  @Auth('read', 'write')
  @Get('write')
  write(@Principal('sub') sub: string): { sub: string } {
    return { sub };
  }

  @Auth()
  @Get('me')
  me(
    @Principal() principal: TokenPrincipal,
    @TenantId() tenantId: string | undefined,
  ): { claims: TokenPrincipal; tenantId: string | undefined } {
    return { claims: principal, tenantId };
  }
}

/** Class-level scopes merged with the method's own: /scoped/write needs `orders` and `write`. */
@Auth('orders')
@Controller('scoped')
class ScopedController {
  @Get('read')
  read(@Principal('sub') sub: string): { sub: string } {
    return { sub };
  }

  @Auth('write')
  @Get('write')
  write(): { ok: true } {
    return { ok: true };
  }
}

/**
 * Every guard suite runs on both HTTP adapters and on both integrations: the fast path (`@Auth()`
 * runs the verification core directly) and the passport strategy (`@Auth()` through
 * `AuthGuard('tessera')`, @tessera/nest-guard/passport), built on the same core and key sources.
 */
const MATRIX = (['fastify', 'express'] as const).flatMap((adapter) =>
  (['fast', 'passport'] as const).map((mode) => [adapter, mode] as const),
);

const HMAC_ISSUER = 'https://gateway.example.test';
const HMAC_SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const RESOLVER_ISSUER = 'https://local.example.test';
const now = () => Math.floor(Date.now() / 1000);

describe.each(MATRIX)('JwtGuardModule on %s, %s path (e2e)', (adapter, mode) => {
  let jwks: TestIssuer;
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  const resolverKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const resolverCalls: string[] = [];
  /** Kids the resolver no longer answers (an emergency rotation in the application's key store). */
  const retiredKids = new Set<string>();
  const revokedJtis = new Set<string>();
  const revocationChecks: string[] = [];

  const jwksIssuer = (): JwtIssuerOptions => ({
    issuer: jwks.issuer,
    audience: [jwks.audience, 'https://other-api.example.test'],
    algorithms: ['RS256', 'PS256', 'EdDSA'],
    jwksUri: jwks.jwksUri,
    revocation: {
      isRevoked: (claims) => {
        revocationChecks.push(String(claims.jti));
        return revokedJtis.has(String(claims.jti));
      },
      cacheTtlMs: 60_000,
    },
  });

  beforeAll(async () => {
    jwks = await startTestIssuer();
    app = await createConsumerApp({
      adapter,
      mode,
      extraControllers: [ExtraController, ScopedController],
      cookieName: 'access_token',
      issuers: [
        jwksIssuer(),
        { issuer: HMAC_ISSUER, audience: 'gateway', algorithms: ['HS256'], secret: HMAC_SECRET, requiredTyp: false },
        {
          issuer: RESOLVER_ISSUER,
          audience: 'local',
          algorithms: ['ES256'],
          keyResolver: async (kid) => {
            resolverCalls.push(kid);
            return (kid === 'local-1' || kid === 'local-rotating') && !retiredKids.has(kid)
              ? { key: resolverKey.publicKey, alg: 'ES256' }
              : undefined;
          },
        },
      ],
    });
    http = request(app.getHttpServer());
  });
  afterAll(async () => {
    await app?.close();
    await jwks?.close();
  });

  function expectTokenError(res: request.Response, code: string) {
    expect({ status: res.status, body: res.body }).toEqual({
      status: 401,
      body: { statusCode: 401, error: 'unauthorized', code, message: expect.any(String) },
    });
    expect(res.headers['www-authenticate']).toBe(`Bearer error="invalid_token", error_description="${res.body.message}"`);
  }
  const get = (path: string, token?: string) =>
    token === undefined ? http.get(path) : http.get(path).set('authorization', `Bearer ${token}`);

  it(`authenticates @Auth() routes through ${mode === 'passport' ? 'the passport strategy' : 'the core directly, never passport'}`, async () => {
    const strategy = jest.spyOn(TesseraStrategy.prototype, 'authenticate');
    try {
      await get('/guarded', jwks.token({ sub: 'which-path' })).expect(200);
      expect(strategy).toHaveBeenCalledTimes(mode === 'passport' ? 1 : 0);
    } finally {
      strategy.mockRestore();
    }
  });

  it('lets a valid token through and hands the route its principal and tenant', async () => {
    const res = await get('/guarded', jwks.token({ sub: 'alice', scope: 'read write', tenant_id: 't-42' })).expect(200);
    expect(res.body).toEqual({ sub: 'alice', tenantId: 't-42', scope: 'read write' });
    const me = await get('/extra/me', jwks.token({ sub: 'bob', custom: { a: 1 } })).expect(200);
    expect(me.body.claims).toMatchObject({ iss: jwks.issuer, sub: 'bob', custom: { a: 1 }, tenant_id: 'tenant-1' });
    expect(me.body.tenantId).toBe('tenant-1');
  });

  it('accepts an audience list containing any configured audience, and a PS256 key published without alg', async () => {
    await get('/guarded', jwks.token({ aud: ['https://unrelated.test', 'https://other-api.example.test'] })).expect(200);
    const pss = createTestKey('PS256', 'pss-key', false);
    jwks.published.push(pss);
    await get('/guarded', jwks.token({}, {}, pss)).expect(200);
    jwks.published.pop();
  });

  it('verifies EdDSA (Ed25519) tokens with the same rules as the other algorithms', async () => {
    const ed = createTestKey('EdDSA', 'ed-key');
    jwks.published.push(ed);
    try {
      const res = await get('/guarded', jwks.token({ sub: 'eddie' }, {}, ed)).expect(200);
      expect(res.body.sub).toBe('eddie');
      const [h, , sig] = jwks.token({}, {}, ed).split('.');
      const forged = Buffer.from(
        JSON.stringify({ iss: jwks.issuer, aud: jwks.audience, sub: 'admin', exp: now() + 60, scope: 'read' }),
      ).toString('base64url');
      expectTokenError(await get('/guarded', `${h}.${forged}.${sig}`), 'INVALID_SIGNATURE');
      expectTokenError(await get('/guarded', jwks.token({ exp: now() - 31 }, {}, ed)), 'TOKEN_EXPIRED');
      await get('/guarded', jwks.token({ exp: now() - 5 }, {}, ed)).expect(200);
      expectTokenError(await get('/guarded', jwks.token({ nbf: now() + 120 }, {}, ed)), 'TOKEN_NOT_YET_VALID');
      expectTokenError(await get('/guarded', jwks.token({ aud: 'https://someone-else.test' }, {}, ed)), 'INVALID_AUDIENCE');
      expectTokenError(await get('/guarded', jwks.token({ aud: undefined }, {}, ed)), 'INVALID_AUDIENCE');
      // The Ed25519 key cannot verify RS256, and the RSA key cannot verify EdDSA.
      expectTokenError(
        await get('/guarded', jwks.token({}, { alg: 'RS256' }, { ...jwks.published[0], kid: 'ed-key' })),
        'ALGORITHM_NOT_ALLOWED',
      );
      expectTokenError(await get('/guarded', jwks.token({}, {}, { ...ed, kid: jwks.published[0].kid })), 'ALGORITHM_NOT_ALLOWED');
    } finally {
      jwks.published.pop();
    }
  });

  it('leaves unguarded routes open and applies no guard without @Auth when not global', async () => {
    await http.get('/hello').expect(200, { message: 'hello' });
    await http.get('/extra/unmarked').expect(200, { ok: true });
  });

  it('answers MISSING_TOKEN without a bearer token (no header, another scheme, empty Bearer)', async () => {
    expectTokenError(await http.get('/guarded'), 'MISSING_TOKEN');
    expectTokenError(await http.get('/guarded').set('authorization', 'Basic dXNlcjpwYXNz'), 'MISSING_TOKEN');
    expectTokenError(await http.get('/guarded').set('authorization', 'Bearer '), 'MISSING_TOKEN');
  });

  it('reads the token from the configured cookie, the Authorization header first', async () => {
    await http.get('/guarded').set('cookie', `theme=dark; access_token=${jwks.token()}`).expect(200);
    expectTokenError(await http.get('/guarded').set('cookie', 'access_token=not-a-jwt'), 'MALFORMED_TOKEN');
    await http.get('/guarded').set('authorization', `Bearer ${jwks.token()}`).set('cookie', 'access_token=garbage').expect(200);
  });

  it.each([
    ['garbage', () => 'not-a-jwt'],
    ['a JWE (five parts)', () => `${jwks.token()}.a.b`],
    ['a token over 8 KB', () => jwks.token({ pad: 'x'.repeat(9000) })],
    [
      'duplicate payload members',
      () =>
        signJwt(
          { alg: 'RS256', kid: jwks.published[0].kid, typ: 'at+jwt' },
          `{"iss":"${jwks.issuer}","aud":"${jwks.audience}","exp":${now() + 60},"sub":"a","sub":"admin"}`,
          jwks.published[0].privateKey,
        ),
    ],
    ['an embedded jwk header', () => jwks.token({}, { jwk: jwks.published[0].jwk })],
    ['a jku header', () => jwks.token({}, { jku: `${jwks.issuer}/evil-jwks.json` })],
    ['an x5u header', () => jwks.token({}, { x5u: `${jwks.issuer}/evil.pem` })],
    ['an unknown crit entry', () => jwks.token({}, { crit: ['urn:example:x'], 'urn:example:x': 1 })],
    ['b64: false', () => jwks.token({}, { b64: false, crit: ['b64'] })],
    ['exp as a string', () => jwks.token({ exp: String(now() + 60) })],
    [
      'exp beyond 2^53',
      () =>
        signJwt(
          { alg: 'RS256', kid: jwks.published[0].kid, typ: 'at+jwt' },
          `{"iss":"${jwks.issuer}","aud":"${jwks.audience}","exp":9007199254740993}`,
          jwks.published[0].privateKey,
        ),
    ],
    ['no exp', () => jwks.token({ exp: undefined })],
    ['a Bearer value with a space inside', () => `${jwks.token()} extra`],
    ['base64 padding', () => `${jwks.token()}=`],
    ['standard base64 characters (+/)', () => `${jwks.token().slice(0, -2)}+/`],
    ['a non-JSON header', () => `${Buffer.from('{alg:RS256}').toString('base64url')}.${jwks.token().split('.')[1]}.c2ln`],
    [
      'two algs in the header',
      () =>
        signJwt({ alg: 'RS256', kid: jwks.published[0].kid, typ: 'at+jwt' }, { iss: jwks.issuer }, jwks.published[0].privateKey).replace(
          /^[^.]+/,
          Buffer.from(`{"alg":"RS256","kid":"${jwks.published[0].kid}","typ":"at+jwt","alg":"HS256"}`).toString('base64url'),
        ),
    ],
  ])('answers MALFORMED_TOKEN for %s, fetching nothing the token names', async (_name, make) => {
    const before = jwks.otherRequests;
    expectTokenError(await get('/guarded', make()), 'MALFORMED_TOKEN');
    expect(jwks.otherRequests).toBe(before);
  });

  it('answers INVALID_SIGNATURE for a tampered payload or a signature by another key with the same kid', async () => {
    const [h, , s] = jwks.token().split('.');
    const forged = Buffer.from(JSON.stringify({ iss: jwks.issuer, aud: jwks.audience, sub: 'admin', exp: now() + 60 })).toString(
      'base64url',
    );
    expectTokenError(await get('/guarded', `${h}.${forged}.${s}`), 'INVALID_SIGNATURE');
    const impostor = createTestKey('RS256', jwks.published[0].kid);
    expectTokenError(await get('/guarded', jwks.token({}, {}, impostor)), 'INVALID_SIGNATURE');
  });

  it('answers INVALID_SIGNATURE for an ES256 signature with r = s = 0', async () => {
    const valid = signJwt(
      { alg: 'ES256', kid: 'local-1', typ: 'at+jwt' },
      { iss: RESOLVER_ISSUER, aud: 'local', sub: 'x', exp: now() + 60, scope: 'read' },
      resolverKey.privateKey,
    );
    const [h, p] = valid.split('.');
    expectTokenError(await get('/guarded', `${h}.${p}.${Buffer.alloc(64).toString('base64url')}`), 'INVALID_SIGNATURE');
    expectTokenError(await get('/guarded', `${h}.${p}.${Buffer.alloc(10).toString('base64url')}`), 'INVALID_SIGNATURE');
  });

  it('answers TOKEN_EXPIRED and TOKEN_NOT_YET_VALID beyond the 30 s tolerance, and accepts within it', async () => {
    expectTokenError(await get('/guarded', jwks.token({ exp: now() - 31 })), 'TOKEN_EXPIRED');
    expectTokenError(await get('/guarded', jwks.token({ nbf: now() + 120 })), 'TOKEN_NOT_YET_VALID');
    await get('/guarded', jwks.token({ exp: now() - 5 })).expect(200);
    await get('/guarded', jwks.token({ nbf: now() + 5 })).expect(200);
  });

  it('answers INVALID_ISSUER for an unknown or missing iss without fetching any JWKS', async () => {
    const before = jwks.fetches;
    expectTokenError(await get('/guarded', jwks.token({ iss: 'https://evil.example.test' }, { kid: randomUUID() })), 'INVALID_ISSUER');
    expectTokenError(await get('/guarded', jwks.token({ iss: undefined }, { kid: randomUUID() })), 'INVALID_ISSUER');
    expect(jwks.fetches).toBe(before);
  });

  it('answers INVALID_AUDIENCE for a foreign or missing aud', async () => {
    expectTokenError(await get('/guarded', jwks.token({ aud: 'https://someone-else.test' })), 'INVALID_AUDIENCE');
    expectTokenError(await get('/guarded', jwks.token({ aud: undefined })), 'INVALID_AUDIENCE');
  });

  it.each([['JWT'], ['dpop+jwt'], ['logout+jwt'], [undefined]])(
    'answers INVALID_TOKEN_TYPE for typ %s where at+jwt is required',
    async (typ) => {
      expectTokenError(await get('/guarded', jwks.token({}, { typ })), 'INVALID_TOKEN_TYPE');
    },
  );

  it('accepts application/at+jwt in any case', async () => {
    await get('/guarded', jwks.token({}, { typ: 'Application/AT+JWT' })).expect(200);
  });

  it('answers UNKNOWN_KEY for a missing, unknown or hostile kid', async () => {
    expectTokenError(await get('/guarded', jwks.token({}, { kid: undefined })), 'UNKNOWN_KEY');
    expectTokenError(await get('/guarded', jwks.token({}, { kid: 'no-such-key' })), 'UNKNOWN_KEY');
    expectTokenError(await get('/guarded', jwks.token({}, { kid: '../../etc/passwd' })), 'UNKNOWN_KEY');
    expectTokenError(await get('/guarded', jwks.token({}, { kid: "' OR '1'='1" })), 'UNKNOWN_KEY');
    expectTokenError(await get('/guarded', jwks.token({}, { kid: 'a\nb' })), 'UNKNOWN_KEY');
    expectTokenError(await get('/guarded', jwks.token({}, { kid: 'k'.repeat(300) })), 'UNKNOWN_KEY');
  });

  it('answers ALGORITHM_NOT_ALLOWED for alg none in any case, an algorithm the issuer does not list, and one its key is not pinned to', async () => {
    for (const alg of ['none', 'None', 'NONE']) {
      const [, payload] = jwks.token().split('.');
      const header = Buffer.from(JSON.stringify({ alg, kid: jwks.published[0].kid, typ: 'at+jwt' })).toString('base64url');
      expectTokenError(await get('/guarded', `${header}.${payload}.`), 'ALGORITHM_NOT_ALLOWED');
    }
    const rs512 = { ...jwks.published[0], alg: 'RS512' };
    expectTokenError(await get('/guarded', jwks.token({}, {}, rs512)), 'ALGORITHM_NOT_ALLOWED');
    // The published JWK says alg RS256; the same RSA key used with PS256 (which the issuer lists) is refused.
    const ps256 = { ...jwks.published[0], alg: 'PS256' };
    expectTokenError(await get('/guarded', jwks.token({}, {}, ps256)), 'ALGORITHM_NOT_ALLOWED');
  });

  it('refuses key confusion: HS256 signed with the RSA public key (PEM, JWK-derived, with leading whitespace) as the secret', async () => {
    const pem = jwks.published[0].publicKey.export({ type: 'spki', format: 'pem' }) as string;
    for (const secret of [pem, `  \n${pem}`, pem.trim()]) {
      const forged = signJwt(
        { alg: 'HS256', kid: jwks.published[0].kid, typ: 'at+jwt' },
        { iss: jwks.issuer, aud: jwks.audience, sub: 'admin', exp: now() + 60, scope: 'read' },
        secret,
      );
      expectTokenError(await get('/guarded', forged), 'ALGORITHM_NOT_ALLOWED');
    }
  });

  it('verifies an HS256 issuer with its shared secret, without kid, and refuses a wrong secret', async () => {
    const claims = { iss: HMAC_ISSUER, aud: 'gateway', sub: 'svc', exp: now() + 60, scope: 'read' };
    const res = await get('/guarded', signJwt({ alg: 'HS256', typ: 'JWT' }, claims, HMAC_SECRET)).expect(200);
    expect(res.body.sub).toBe('svc');
    await get('/guarded', signJwt({ alg: 'HS256' }, claims, HMAC_SECRET)).expect(200);
    expectTokenError(await get('/guarded', signJwt({ alg: 'HS256' }, claims, `${HMAC_SECRET}x`)), 'INVALID_SIGNATURE');
    expectTokenError(await get('/guarded', signJwt({ alg: 'HS256', typ: 'dpop+jwt' }, claims, HMAC_SECRET)), 'INVALID_TOKEN_TYPE');
    expectTokenError(await get('/guarded', signJwt({ alg: 'HS512' }, claims, HMAC_SECRET)), 'ALGORITHM_NOT_ALLOWED');
  });

  it('answers 403 INSUFFICIENT_SCOPE with the RFC 6750 challenge naming the scopes', async () => {
    const res = await get('/guarded', jwks.token({ scope: 'write' }));
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ statusCode: 403, error: 'forbidden', code: 'INSUFFICIENT_SCOPE', message: 'Token lacks a required scope' });
    expect(res.headers['www-authenticate']).toBe(
      'Bearer error="insufficient_scope", error_description="Token lacks a required scope", scope="read"',
    );
    const both = await get('/extra/write', jwks.token({ scope: 'read' }));
    expect(both.status).toBe(403);
    expect(both.headers['www-authenticate']).toContain('scope="read write"');
    await get('/extra/write', jwks.token({ scope: 'write read' })).expect(200, { sub: 'user-1' });
    await get('/extra/write', jwks.token({ scope: undefined, scp: ['read', 'write'] })).expect(200);
  });

  it('answers TOKEN_REVOKED when the revocation hook says so, and caches "not revoked" per jti', async () => {
    const jti = randomUUID();
    const token = jwks.token({ jti });
    await get('/guarded', token).expect(200);
    await get('/guarded', jwks.token({ jti })).expect(200); // another token, same jti: cached answer
    expect(revocationChecks.filter((j) => j === jti)).toHaveLength(1);

    const revoked = randomUUID();
    revokedJtis.add(revoked);
    expectTokenError(await get('/guarded', jwks.token({ jti: revoked })), 'TOKEN_REVOKED');
    expectTokenError(await get('/guarded', jwks.token({ jti: revoked })), 'TOKEN_REVOKED');
  });

  it('serves a hot token from the verified-token cache: one signature check, the keyResolver re-asked on every hit', async () => {
    const token = signJwt(
      { alg: 'ES256', kid: 'local-1', typ: 'at+jwt' },
      { iss: RESOLVER_ISSUER, aud: 'local', sub: 'cached', exp: now() + 60, scope: 'read' },
      resolverKey.privateKey,
    );
    const before = resolverCalls.length;
    const verify = jest.spyOn(JwtVerifier.prototype, 'verify');
    try {
      for (let i = 0; i < 5; i++) await get('/guarded', token).expect(200);
      // One full verification (the core); each of the 4 hits asks the resolver whether the key is still its key NOW (issue 17.6).
      expect(verify).toHaveBeenCalledTimes(1);
      expect(resolverCalls.length - before).toBe(5);
    } finally {
      verify.mockRestore();
    }
    const another = signJwt(
      { alg: 'ES256', kid: 'local-1', typ: 'at+jwt' },
      { iss: RESOLVER_ISSUER, aud: 'local', sub: 'other', exp: now() + 60, scope: 'read' },
      resolverKey.privateKey,
    );
    await get('/guarded', another).expect(200);
    expectTokenError(
      await get(
        '/guarded',
        signJwt(
          { alg: 'ES256', kid: 'local-2', typ: 'at+jwt' },
          { iss: RESOLVER_ISSUER, aud: 'local', exp: now() + 60 },
          resolverKey.privateKey,
        ),
      ),
      'UNKNOWN_KEY',
    );
  });

  it('stops accepting a cached token as soon as its keyResolver no longer answers the key (emergency rotation, issue 17.6)', async () => {
    const token = signJwt(
      { alg: 'ES256', kid: 'local-rotating', typ: 'at+jwt' },
      { iss: RESOLVER_ISSUER, aud: 'local', sub: 'rotated', exp: now() + 60, scope: 'read' },
      resolverKey.privateKey,
    );
    await get('/guarded', token).expect(200);
    await get('/guarded', token).expect(200); // a verified-token cache hit
    retiredKids.add('local-rotating');
    try {
      expectTokenError(await get('/guarded', token), 'UNKNOWN_KEY');
      expectTokenError(await get('/guarded', token), 'UNKNOWN_KEY');
    } finally {
      retiredKids.delete('local-rotating');
    }
  });

  it('merges a controller’s @Auth scopes with the method’s own', async () => {
    await get('/scoped/read', jwks.token({ scope: 'orders' })).expect(200, { sub: 'user-1' });
    const noClassScope = await get('/scoped/read', jwks.token({ scope: 'read write' }));
    expect({ status: noClassScope.status, challenge: noClassScope.headers['www-authenticate'] }).toEqual({
      status: 403,
      challenge: expect.stringContaining('scope="orders"'),
    });
    const onlyClassScope = await get('/scoped/write', jwks.token({ scope: 'orders' }));
    expect({ status: onlyClassScope.status, challenge: onlyClassScope.headers['www-authenticate'] }).toEqual({
      status: 403,
      challenge: expect.stringContaining('scope="orders write"'),
    });
    await get('/scoped/write', jwks.token({ scope: 'write orders' })).expect(200);
  });

  it('reuses a "not revoked" answer for revocation.cacheTtlMs (60 s here)', async () => {
    const jti = randomUUID();
    const token = jwks.token({ jti });
    await get('/guarded', token).expect(200);
    revokedJtis.add(jti);
    await get('/guarded', token).expect(200);
    // With cacheTtlMs: 0 the revocation is seen at once (global-mode suite below).
  });
});

describe.each(MATRIX)('JwtGuardModule global mode on %s, %s path (e2e)', (adapter, mode) => {
  let jwks: TestIssuer;
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  const revoked = new Set<string>();
  const hookArguments: Array<[string, string]> = [];

  beforeAll(async () => {
    jwks = await startTestIssuer();
    app = await createConsumerApp({
      adapter,
      mode,
      global: true,
      extraControllers: [ExtraController],
      issuers: [
        {
          issuer: jwks.issuer,
          audience: jwks.audience,
          algorithms: ['RS256'],
          jwksUri: jwks.jwksUri,
          revocation: {
            isRevoked: async (claims, token, tokenHash) => {
              hookArguments.push([token, tokenHash]);
              return revoked.has(String(claims.jti));
            },
            cacheTtlMs: 0,
          },
        },
      ],
    });
    http = request(app.getHttpServer());
  });
  afterAll(async () => {
    await app?.close();
    await jwks?.close();
  });

  it('guards unmarked routes, keeps @Public routes open and still checks @Auth scopes', async () => {
    await http.get('/hello').expect(200);
    const res = await http.get('/extra/unmarked');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('MISSING_TOKEN');
    await http.get('/extra/unmarked').set('authorization', `Bearer ${jwks.token()}`).expect(200);
    await http
      .get('/guarded')
      .set('authorization', `Bearer ${jwks.token({ scope: 'other' })}`)
      .expect(403);
    await http.get('/guarded').set('authorization', `Bearer ${jwks.token()}`).expect(200);
  });

  it('refuses a verified, cached token as soon as the revocation hook reports it', async () => {
    const jti = randomUUID();
    const token = jwks.token({ jti });
    await http.get('/guarded').set('authorization', `Bearer ${token}`).expect(200);
    revoked.add(jti);
    const res = await http.get('/guarded').set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('TOKEN_REVOKED');
  });

  it('passes the raw token and its SHA-256 (base64url) to the revocation hook, on misses and cache hits', async () => {
    const token = jwks.token({ jti: randomUUID() });
    const before = hookArguments.length;
    await http.get('/guarded').set('authorization', `Bearer ${token}`).expect(200);
    await http.get('/guarded').set('authorization', `Bearer ${token}`).expect(200);
    const hash = createHash('sha256').update(token).digest('base64url');
    expect(hookArguments.slice(before)).toEqual([
      [token, hash],
      [token, hash],
    ]);
  });
});

describe.each(MATRIX)('JwtGuardModule with tesseraIntrospection on %s, %s path (e2e)', (adapter, mode) => {
  let jwks: TestIssuer;
  let introspection: Server;
  let url: string;
  let down = false;
  const inactive = new Set<string>();
  let requests = 0;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    jwks = await startTestIssuer();
    // A stand-in for Tessera's POST /oauth/introspect (the two-process test uses the real one).
    introspection = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += String(chunk)));
      req.on('end', () => {
        requests++;
        if (down || req.headers['x-api-key'] !== 'tenant-key') return void res.writeHead(down ? 503 : 401).end();
        const token = new URLSearchParams(body).get('token') ?? '';
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ active: !inactive.has(token) }));
      });
    });
    await new Promise<void>((resolve) => introspection.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(introspection.address() as AddressInfo).port}/oauth/introspect`;
  });
  beforeEach(() => {
    down = false;
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    introspection.closeAllConnections();
    await new Promise((resolve) => introspection.close(resolve));
    await jwks?.close();
  });

  async function consumer(options: Parameters<typeof tesseraIntrospection>[1], apiKey = 'tenant-key') {
    const app = await createConsumerApp({
      adapter,
      mode,
      issuers: [
        {
          issuer: jwks.issuer,
          audience: jwks.audience,
          algorithms: ['RS256'],
          jwksUri: jwks.jwksUri,
          revocation: tesseraIntrospection({ url, apiKey }, options),
        },
      ],
    });
    apps.push(app);
    return (token: string) => request(app.getHttpServer()).get('/guarded').set('authorization', `Bearer ${token}`);
  }

  it('lets an active token through, refuses an inactive one with 401 TOKEN_REVOKED, one request per token per cacheTtlMs', async () => {
    const get = await consumer({ cacheTtlMs: 60_000 });
    const live = jwks.token();
    const dead = jwks.token();
    inactive.add(dead);
    const before = requests;
    for (let i = 0; i < 3; i++) await get(live).expect(200);
    for (let i = 0; i < 3; i++) {
      const res = await get(dead);
      expect({ status: res.status, body: res.body }).toEqual({
        status: 401,
        body: { statusCode: 401, error: 'unauthorized', code: 'TOKEN_REVOKED', message: 'Token has been revoked' },
      });
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token", error_description="Token has been revoked"');
    }
    expect(requests - before).toBe(2);
  });

  it('answers 503 SERVICE_UNAVAILABLE when the endpoint fails and onError is deny (the default), and cached answers keep working', async () => {
    const get = await consumer({ cacheTtlMs: 60_000 });
    const known = jwks.token();
    await get(known).expect(200);
    down = true;
    const res = await get(jwks.token());
    expect({ status: res.status, body: res.body }).toEqual({
      status: 503,
      body: {
        statusCode: 503,
        error: 'service_unavailable',
        code: 'SERVICE_UNAVAILABLE',
        message: 'Token revocation status is unavailable',
      },
    });
    expect(res.headers['retry-after']).toBe('5');
    await get(known).expect(200);
    // Wrong credentials are a failure too, never a silent pass.
    const wrongKey = await consumer({}, 'another-key');
    down = false;
    expect((await wrongKey(jwks.token())).status).toBe(503);
  });

  it('lets verified tokens through when the endpoint fails and onError is allow', async () => {
    const get = await consumer({ onError: 'allow' });
    down = true;
    await get(jwks.token()).expect(200);
    const forged = `${jwks.token().split('.').slice(0, 2).join('.')}.${'A'.repeat(342)}`;
    expect((await get(forged)).body.code).toBe('INVALID_SIGNATURE'); // allow never skips verification
  });
});

describe('JwtGuardModule configuration (e2e)', () => {
  const base = { issuer: 'https://issuer.test', audience: 'aud', jwksUri: 'https://issuer.test/jwks.json' };
  it.each([
    ['alg none', { ...base, algorithms: ['RS256', 'none'] }, /algorithm "none"/],
    ['HS mixed with RS', { ...base, algorithms: ['RS256', 'HS256'] }, /cannot be mixed/],
    ['no algorithms', { ...base, algorithms: [] }, /algorithms is required/],
    ['two key sources', { ...base, algorithms: ['HS256'], secret: 'x'.repeat(32) }, /exactly one of/],
    ['a short HMAC secret', { issuer: 'i', audience: 'a', algorithms: ['HS256'], secret: 'short' }, /at least 32 bytes/],
  ])('refuses to start with %s', async (_name, issuer, message) => {
    await expect(createConsumerApp({ adapter: 'fastify', issuers: [issuer as JwtIssuerOptions] })).rejects.toThrow(message);
  });
});

describe.each(MATRIX)('JwtGuardModule resource-server options on %s, %s path (e2e)', (adapter, mode) => {
  let jwks: TestIssuer;
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  const constraintCalls: Array<{ method: string; url: string; proof: unknown; sub: unknown }> = [];

  beforeAll(async () => {
    jwks = await startTestIssuer();
    app = await createConsumerApp({
      adapter,
      mode,
      issuers: [{ issuer: jwks.issuer, audience: jwks.audience, algorithms: ['RS256'], jwksUri: jwks.jwksUri }],
      protectedResource: {
        resource: 'https://api.example.test/orders',
        scopesSupported: ['read', 'write'],
        extra: { resource_name: 'Orders' },
      },
      // A stand-in for DPoP: the request must carry a header that names the token's sub.
      senderConstraint: {
        check: (claims, req) => {
          constraintCalls.push({ method: req.method, url: req.url, proof: req.headers['x-proof'], sub: claims.sub });
          if (req.headers['x-proof'] !== claims.sub)
            throw new TokenError('INVALID_TOKEN_TYPE', 'Token is bound to a key the request does not prove');
        },
      },
    });
    http = request(app.getHttpServer());
  });
  afterAll(async () => {
    await app?.close();
    await jwks?.close();
  });

  it('serves RFC 9728 metadata at /.well-known/oauth-protected-resource/<path>, open to all', async () => {
    const res = await http.get('/.well-known/oauth-protected-resource/orders').expect(200);
    expect(res.body).toEqual({
      resource_name: 'Orders',
      resource: 'https://api.example.test/orders',
      authorization_servers: [jwks.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['read', 'write'],
    });
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
  });

  it('names the metadata in every challenge (resource_metadata, RFC 9728 §5.1)', async () => {
    const missing = await http.get('/guarded');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe(
      'Bearer error="invalid_token", error_description="A bearer token is required", resource_metadata="https://api.example.test/.well-known/oauth-protected-resource/orders"',
    );
    const scope = await http
      .get('/guarded')
      .set('authorization', `Bearer ${jwks.token({ scope: 'other' })}`)
      .set('x-proof', 'user-1');
    expect(scope.status).toBe(403);
    expect(scope.headers['www-authenticate']).toContain(
      'resource_metadata="https://api.example.test/.well-known/oauth-protected-resource/orders"',
    );
  });

  it('hands a sender-constraint check the claims, method, URL and headers, on misses and cache hits', async () => {
    const token = jwks.token({ sub: 'bound' });
    constraintCalls.length = 0;
    await http.get('/guarded?x=1').set('authorization', `Bearer ${token}`).set('x-proof', 'bound').expect(200);
    await http.get('/guarded?x=2').set('authorization', `Bearer ${token}`).set('x-proof', 'bound').expect(200);
    const refused = await http.get('/guarded').set('authorization', `Bearer ${token}`).set('x-proof', 'someone-else');
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 401, code: 'INVALID_TOKEN_TYPE' });
    expect(constraintCalls).toEqual([
      { method: 'GET', url: '/guarded?x=1', proof: 'bound', sub: 'bound' },
      { method: 'GET', url: '/guarded?x=2', proof: 'bound', sub: 'bound' },
      { method: 'GET', url: '/guarded', proof: 'someone-else', sub: 'bound' },
    ]);
  });
});

describe.each(['fastify', 'express'] as const)('the passport strategy behind passport’s own guards on %s (e2e)', (adapter) => {
  let jwks: TestIssuer;
  let app: INestApplication;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    jwks = await startTestIssuer();
    app = await createConsumerApp({
      adapter,
      mode: 'passport',
      issuers: [{ issuer: jwks.issuer, audience: jwks.audience, algorithms: ['RS256'], jwksUri: jwks.jwksUri }],
    });
    http = request(app.getHttpServer());
  });
  afterAll(async () => {
    await app?.close();
    await jwks?.close();
  });

  it('TesseraAuthGuard: the principal as req.user, the design’s errors on refusal', async () => {
    await http
      .get('/passport/guarded')
      .set('authorization', `Bearer ${jwks.token({ sub: 'pp', scope: 'x' })}`)
      .expect(200, { sub: 'pp', scope: 'x' });
    const expired = await http.get('/passport/guarded').set('authorization', `Bearer ${jwks.token({ exp: now() - 60 })}`);
    expect({ status: expired.status, body: expired.body }).toEqual({
      status: 401,
      body: { statusCode: 401, error: 'unauthorized', code: 'TOKEN_EXPIRED', message: 'Token expired' },
    });
    expect(expired.headers['www-authenticate']).toBe('Bearer error="invalid_token", error_description="Token expired"');
    expect((await http.get('/passport/guarded')).body.code).toBe('MISSING_TOKEN');
  });

  it("plain AuthGuard('tessera'): works as any passport strategy does (generic 401 on refusal)", async () => {
    await http
      .get('/passport/plain')
      .set('authorization', `Bearer ${jwks.token({ sub: 'plain-user' })}`)
      .expect(200, { sub: 'plain-user' });
    const forged = `${jwks.token().split('.').slice(0, 2).join('.')}.${'A'.repeat(342)}`;
    expect((await http.get('/passport/plain').set('authorization', `Bearer ${forged}`)).status).toBe(401);
  });
});
