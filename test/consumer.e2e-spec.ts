import { ChildProcess, spawn } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, JsonWebKey, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { signJwt } from '../examples/consumer/test-issuer';
import { Clock } from '../src/common/clock';
import { freePort, waitFor } from './utils/process';
import { startTestApp, TestApp } from './utils/test-app';

/**
 * Tessera and the example consumer (examples/consumer/main.ts) as two processes talking HTTP
 * on 127.0.0.1: tokens come from Tessera's endpoints, the consumer's guard fetches Tessera's
 * JWKS (and a tenant's registered-key JWKS) over the network. The consumer runs from source
 * through examples/consumer/swc-register.cjs, on Fastify and on Express.
 */
const ROOT = join(__dirname, '..');
const TESSERA_MAX_AGE_MS = 2000;
const TENANT_MAX_AGE_MS = 500;
const VERIFIED_TTL_MS = 500;
const PER_MINUTE = 10;
const INTROSPECTION_TTL_MS = 1000;
const ADAPTERS = ['fastify', 'express'] as const;
type Adapter = (typeof ADAPTERS)[number];

interface Consumer {
  adapter: Adapter;
  url: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  wwwAuthenticate: string | null;
}

const now = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts examples/consumer/main.ts in its own Node process and waits until it listens. */
async function startConsumer(adapter: Adapter, env: Record<string, string>): Promise<Consumer> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', './examples/consumer/swc-register.cjs', 'examples/consumer/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', ADAPTER: adapter, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const consumer = { adapter, url: `http://127.0.0.1:${port}`, child, output: () => out, exited };
  await waitFor(() => out.includes('Consumer listening') || child.exitCode !== null, 30_000, `the ${adapter} consumer to listen`);
  if (!out.includes('Consumer listening')) throw new Error(`The ${adapter} consumer did not start:\n${out}`);
  return consumer;
}

async function stopConsumer(consumer: Consumer | undefined): Promise<void> {
  if (!consumer || consumer.child.exitCode !== null) return;
  consumer.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([
    consumer.exited.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 5000))),
  ]);
  clearTimeout(timer);
  if (!stopped) consumer.child.kill('SIGKILL');
}

/** GET /guarded on the consumer, over HTTP. */
async function guarded(consumer: Consumer, token?: string, scheme = 'Bearer'): Promise<Answer> {
  const res = await fetch(`${consumer.url}/guarded`, { headers: token === undefined ? {} : { authorization: `${scheme} ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, wwwAuthenticate: res.headers.get('www-authenticate') };
}

function expectRefused(answer: Answer, code: string): void {
  expect(answer).toEqual({
    status: 401,
    body: { statusCode: 401, error: 'unauthorized', code, message: expect.any(String) },
    wwwAuthenticate: `Bearer error="invalid_token", error_description="${String(answer.body.message)}"`,
  });
}

describe('Tessera and the example consumer as two processes over HTTP (e2e)', () => {
  let t: TestApp;
  let tessera: string;
  let tenant: { id: string; apiKey: { 'x-api-key': string } };
  const registered = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let registeredKid: string;
  const consumers = {} as Record<Adapter, Consumer>;

  /** Requests Tessera served for its JWKS, from its own request log (one line per request). */
  function jwksServed(): number {
    return t
      .logs()
      .split('\n')
      .filter((line) => line.startsWith('{') && line.includes('"/.well-known/jwks.json"'))
      .map((line) => JSON.parse(line) as { method?: string; route?: string; statusCode?: number })
      .filter((line) => line.method === 'GET' && line.route === '/.well-known/jwks.json').length;
  }

  /** An access token from POST /v1/tenants/:id/tokens with the tenant's API key. */
  async function issue(body: Record<string, unknown> = {}): Promise<string> {
    const res = await t.http
      .post(`/v1/tenants/${tenant.id}/tokens`)
      .set(tenant.apiKey)
      .send({ sub: 'alice', scope: 'read', refreshToken: false, ...body });
    expect(res.status).toBe(201);
    return res.body.access_token as string;
  }

  /** A token the tenant's backend signs with its registered private key (iss = tenant id). */
  function tenantToken(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
    const iat = now();
    return signJwt(
      { alg: 'RS256', kid: registeredKid, typ: 'JWT', ...header },
      { iss: tenant.id, sub: 'backend-user', aud: tessera, iat, exp: iat + 300, scope: 'read', groupRef: 'g-1', ...claims },
      registered.privateKey,
    );
  }

  /** A well-formed token that names a kid nobody published (the signature is never reached). */
  function unknownKidToken(): string {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${part({ alg: 'RS256', kid: randomUUID(), typ: 'at+jwt' })}.${part({ iss: tessera, sub: 'x', aud: tessera, exp: now() + 300, scope: 'read' })}.${randomBytes(256).toString('base64url')}`;
  }

  /** Issues a token with Tessera's clock moved by `offsetMs`. */
  async function issueAt(offsetMs: number, body: Record<string, unknown> = {}): Promise<string> {
    const clock = t.tessera.app.get(Clock);
    const spy = jest.spyOn(clock, 'now').mockReturnValue(new Date(Date.now() + offsetMs));
    try {
      return await issue(body);
    } finally {
      spy.mockRestore();
    }
  }

  beforeAll(async () => {
    const port = await freePort();
    tessera = `http://127.0.0.1:${port}`;
    t = await startTestApp({ env: { PUBLIC_URL: tessera, KEY_PUBLISH_DELAY: '1', KEY_CHECK_INTERVAL: '1', JWKS_MAX_AGE: '1' } });
    await t.tessera.app.listen({ port, host: '127.0.0.1' });

    const created = await t.http.post('/v1/tenants').set({ 'x-api-key': t.adminKey }).send({ name: 'consumer-e2e' }).expect(201);
    const key = await t.http.post(`/v1/tenants/${created.body.id}/api-keys`).set({ 'x-api-key': t.adminKey }).send({}).expect(201);
    tenant = { id: created.body.id, apiKey: { 'x-api-key': key.body.key } };
    const reg = await t.http
      .post(`/v1/tenants/${tenant.id}/jwt-keys`)
      .set(tenant.apiKey)
      .send({ label: 'backend', algorithm: 'RS256', publicKeyPem: registered.publicKey.export({ type: 'spki', format: 'pem' }) })
      .expect(201);
    registeredKid = reg.body.kid;

    const env = {
      TESSERA_URL: tessera,
      TENANT_IDS: tenant.id,
      JWKS_CACHE_MAX_AGE_MS: String(TESSERA_MAX_AGE_MS),
      TENANT_JWKS_CACHE_MAX_AGE_MS: String(TENANT_MAX_AGE_MS),
      JWKS_REQUESTS_PER_MINUTE: String(PER_MINUTE),
      VERIFIED_CACHE_TTL_MS: String(VERIFIED_TTL_MS),
    };
    const [fastify, express] = await Promise.all(ADAPTERS.map((adapter) => startConsumer(adapter, env)));
    consumers.fastify = fastify;
    consumers.express = express;
  });

  afterAll(async () => {
    await Promise.all(ADAPTERS.map((adapter) => stopConsumer(consumers[adapter])));
    await t?.close();
  });

  describe.each(ADAPTERS)('on %s', (adapter) => {
    const consumer = () => consumers[adapter];

    it('serves /hello without a token and /guarded with a token Tessera issued', async () => {
      const hello = await fetch(`${consumer().url}/hello`);
      expect({ status: hello.status, body: await hello.json() }).toEqual({ status: 200, body: { message: 'hello' } });
      const answer = await guarded(consumer(), await issue({ sub: 'alice', scope: 'read write' }));
      expect(answer).toEqual({ status: 200, body: { sub: 'alice', tenantId: tenant.id, scope: 'read write' }, wwwAuthenticate: null });
    });

    it('answers 401 MISSING_TOKEN without a bearer token', async () => {
      expectRefused(await guarded(consumer()), 'MISSING_TOKEN');
      expectRefused(await guarded(consumer(), 'dXNlcjpwYXNz', 'Basic'), 'MISSING_TOKEN');
    });

    it('answers 401 MALFORMED_TOKEN for garbage, a JWE-shaped token and an embedded jwk header', async () => {
      expectRefused(await guarded(consumer(), 'not-a-jwt'), 'MALFORMED_TOKEN');
      expectRefused(await guarded(consumer(), `${await issue()}.e30.e30`), 'MALFORMED_TOKEN');
      expectRefused(await guarded(consumer(), tenantToken({}, { jwk: registered.publicKey.export({ format: 'jwk' }) })), 'MALFORMED_TOKEN');
    });

    it('answers 401 INVALID_SIGNATURE for a Tessera token whose payload was changed', async () => {
      const [header, payload, signature] = (await issue({ scope: 'read' })).split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'admin', scope: 'read admin' })).toString('base64url');
      expectRefused(await guarded(consumer(), `${header}.${forged}.${signature}`), 'INVALID_SIGNATURE');
    });

    it('answers 401 TOKEN_EXPIRED and TOKEN_NOT_YET_VALID for Tessera tokens issued with its clock an hour off', async () => {
      expectRefused(await guarded(consumer(), await issueAt(-3600_000, { accessTokenTtl: 60 })), 'TOKEN_EXPIRED');
      expectRefused(await guarded(consumer(), await issueAt(+3600_000)), 'TOKEN_NOT_YET_VALID');
      expectRefused(await guarded(consumer(), tenantToken({ iat: now() - 400, exp: now() - 100 })), 'TOKEN_EXPIRED');
    });

    it('answers 401 INVALID_AUDIENCE for a Tessera token issued for another audience', async () => {
      expectRefused(await guarded(consumer(), await issue({ audience: 'https://another-api.example.test' })), 'INVALID_AUDIENCE');
      expectRefused(await guarded(consumer(), tenantToken({ aud: 'https://another-api.example.test' })), 'INVALID_AUDIENCE');
    });

    it('answers 401 INVALID_ISSUER for an issuer the consumer does not trust, without fetching any JWKS', async () => {
      const before = jwksServed();
      expectRefused(await guarded(consumer(), tenantToken({ iss: 'https://evil.example.test' }, { kid: randomUUID() })), 'INVALID_ISSUER');
      expectRefused(await guarded(consumer(), tenantToken({ iss: undefined })), 'INVALID_ISSUER');
      expect(jwksServed()).toBe(before);
    });

    it('answers 401 INVALID_TOKEN_TYPE for a registered-key token typed dpop+jwt, and for a JWT-typed token under Tessera’s issuer', async () => {
      expectRefused(await guarded(consumer(), tenantToken({}, { typ: 'dpop+jwt' })), 'INVALID_TOKEN_TYPE');
      // Tessera's issuer requires at+jwt (RFC 9068) even before it looks the key up.
      expectRefused(await guarded(consumer(), tenantToken({ iss: tessera }, { typ: 'JWT' })), 'INVALID_TOKEN_TYPE');
    });

    it('answers 401 UNKNOWN_KEY for a kid Tessera never published', async () => {
      expectRefused(await guarded(consumer(), unknownKidToken()), 'UNKNOWN_KEY');
    });

    it('answers 401 ALGORITHM_NOT_ALLOWED for alg none and for HS256 keyed with Tessera’s public key', async () => {
      const real = await issue();
      const [, payload] = real.split('.');
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: decodeProtectedHeader(real).kid })).toString('base64url')}.${payload}.`;
      expectRefused(await guarded(consumer(), none), 'ALGORITHM_NOT_ALLOWED');
      const jwks = (await (await fetch(`${tessera}/.well-known/jwks.json`)).json()) as { keys: Array<JsonWebKey & { kid: string }> };
      const published = jwks.keys.find((k) => k.kid === decodeProtectedHeader(real).kid)!;
      const pem = createPublicKey({ key: published, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      const confused = signJwt(
        { alg: 'HS256', kid: published.kid, typ: 'at+jwt' },
        JSON.parse(Buffer.from(payload, 'base64url').toString()),
        pem,
      );
      expectRefused(await guarded(consumer(), confused), 'ALGORITHM_NOT_ALLOWED');
    });

    it('answers 403 INSUFFICIENT_SCOPE with error="insufficient_scope" for a valid token without `read`', async () => {
      const answer = await guarded(consumer(), await issue({ scope: 'write' }));
      expect(answer).toEqual({
        status: 403,
        body: { statusCode: 403, error: 'forbidden', code: 'INSUFFICIENT_SCOPE', message: expect.any(String) },
        wwwAuthenticate: `Bearer error="insufficient_scope", error_description="${String(answer.body.message)}", scope="read"`,
      });
    });
  });

  it('picks up an emergency rotation (?immediate=true) without a restart; the retired key stops verifying within the cache lifetime', async () => {
    const oldUsed = await issue({ sub: 'before' });
    const oldUnused = await issue({ sub: 'before-unused' });
    for (const adapter of ADAPTERS) expect((await guarded(consumers[adapter], oldUsed)).status).toBe(200);

    const rotated = await t.http.post('/v1/signing-keys/rotate?immediate=true').set({ 'x-api-key': t.adminKey }).expect(201);
    expect(rotated.body).toMatchObject({ status: 'active' });
    const fresh = await issue({ sub: 'after' });
    expect(decodeProtectedHeader(fresh).kid).toBe(rotated.body.kid);
    for (const adapter of ADAPTERS) {
      expect(await guarded(consumers[adapter], fresh)).toMatchObject({ status: 200, body: { sub: 'after' } });
    }

    // The new kid made the consumer fetch the JWKS, which no longer lists the retired key:
    // its tokens are refused at once or, at the latest, when the consumer's caches expire.
    const started = Date.now();
    for (const adapter of ADAPTERS) {
      await waitFor(
        async () => (await guarded(consumers[adapter], oldUnused)).status === 401,
        TESSERA_MAX_AGE_MS + 3000,
        `the retired key to be refused on ${adapter}`,
      );
      expectRefused(await guarded(consumers[adapter], oldUnused), 'UNKNOWN_KEY');
      await waitFor(
        async () => (await guarded(consumers[adapter], oldUsed)).status === 401,
        TESSERA_MAX_AGE_MS + VERIFIED_TTL_MS + 3000,
        `a cached token of the retired key to be refused on ${adapter}`,
      );
      expectRefused(await guarded(consumers[adapter], oldUsed), 'UNKNOWN_KEY');
    }
    expect(Date.now() - started).toBeLessThan(TESSERA_MAX_AGE_MS + VERIFIED_TTL_MS + 3000);
    expect((await guarded(consumers.fastify, fresh)).status).toBe(200);
  });

  it('picks up a normal rotation (published first, signing after KEY_PUBLISH_DELAY) with no token refused on the way', async () => {
    const before = decodeProtectedHeader(await issue()).kid;
    const rotated = await t.http.post('/v1/signing-keys/rotate').set({ 'x-api-key': t.adminKey }).expect(201);
    expect(rotated.body).toMatchObject({ status: 'pending', kid: expect.any(String) });
    expect(rotated.body.kid).not.toBe(before);

    const kids = new Set<string>();
    const refused: string[] = [];
    const deadline = Date.now() + 8000;
    // Bounded by time and count: issue and verify until tokens carry the new kid, and a bit beyond.
    let afterSwitch = 0;
    for (let i = 0; i < 400 && Date.now() < deadline && afterSwitch < 5; i++) {
      const token = await issue({ sub: `rot-${i}` });
      const kid = decodeProtectedHeader(token).kid!;
      kids.add(kid);
      if (kid === rotated.body.kid) afterSwitch++;
      for (const adapter of ADAPTERS) {
        const answer = await guarded(consumers[adapter], token);
        if (answer.status !== 200) refused.push(`${adapter} ${kid}: ${answer.status} ${String(answer.body.code)}`);
      }
      await sleep(50);
    }
    expect(refused).toEqual([]);
    expect(kids).toEqual(new Set([before, rotated.body.kid]));
    expect(afterSwitch).toBe(5);
  });

  it('accepts a token signed by the tenant’s registered key from the tenant JWKS, and refuses it once the key is deleted', async () => {
    const used = tenantToken({ sub: 'backend-user' });
    for (const adapter of ADAPTERS) {
      expect(await guarded(consumers[adapter], used)).toEqual({
        status: 200,
        body: { sub: 'backend-user', tenantId: undefined, scope: 'read' },
        wwwAuthenticate: null,
      });
    }
    // Signed before the delete, presented only after it.
    const unused = tenantToken({ sub: 'backend-user-2' });

    await t.http.delete(`/v1/tenants/${tenant.id}/jwt-keys/${registeredKid}`).set(tenant.apiKey).expect(204);
    const deletedAt = Date.now();
    for (const adapter of ADAPTERS) {
      await waitFor(
        async () => (await guarded(consumers[adapter], unused)).status === 401,
        TENANT_MAX_AGE_MS + 3000,
        `the deleted key to be refused on ${adapter}`,
      );
      expectRefused(await guarded(consumers[adapter], unused), 'UNKNOWN_KEY');
      await waitFor(
        async () => (await guarded(consumers[adapter], used)).status === 401,
        TENANT_MAX_AGE_MS + VERIFIED_TTL_MS + 3000,
        `a cached token of the deleted key to be refused on ${adapter}`,
      );
      expectRefused(await guarded(consumers[adapter], used), 'UNKNOWN_KEY');
      expectRefused(await guarded(consumers[adapter], tenantToken()), 'UNKNOWN_KEY');
    }
    expect(Date.now() - deletedAt).toBeLessThan(TENANT_MAX_AGE_MS + VERIFIED_TTL_MS + 3000);
  });

  it('survives 10 000 requests with random kids: all 401 UNKNOWN_KEY, no 5xx, at most jwksRequestsPerMinute JWKS fetches, valid tokens keep passing', async () => {
    const consumer = consumers.fastify;
    const TOTAL = 10_000;
    const IN_FLIGHT = 50;
    // Fresh tokens (never seen by the consumer's verified-token cache) to present during the storm.
    const valid = await Promise.all(Array.from({ length: 40 }, (_, i) => issue({ sub: `steady-${i}` })));
    expect((await guarded(consumer, valid[0])).status).toBe(200);

    const fetchesBefore = jwksServed();
    const started = Date.now();
    const deadline = started + 25_000;
    const statuses = new Map<string, number>();
    let sent = 0;
    let stormDone = false;
    const worker = async () => {
      while (sent < TOTAL && Date.now() < deadline) {
        sent++;
        const answer = await guarded(consumer, unknownKidToken());
        const key = `${answer.status} ${String(answer.body.code)}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      }
    };
    const steady: Answer[] = [];
    const steadyLoop = async () => {
      for (let i = 0; !stormDone && i < 2000; i++) {
        steady.push(await guarded(consumer, valid[i % valid.length]));
        await sleep(20);
      }
    };
    const steadyDone = steadyLoop();
    try {
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    } finally {
      stormDone = true;
      await steadyDone;
    }
    const elapsedMs = Date.now() - started;
    await sleep(200); // Tessera writes its request line just after the response
    const fetches = jwksServed() - fetchesBefore;

    expect(Object.fromEntries(statuses)).toEqual({ '401 UNKNOWN_KEY': TOTAL });
    expect(steady.length).toBeGreaterThan(10);
    expect(steady.filter((a) => a.status !== 200)).toEqual([]);
    // The lookup budget is a token bucket (capacity and refill jwksRequestsPerMinute per minute):
    // over a storm of T seconds at most PER_MINUTE + PER_MINUTE·T/60 fetches, whatever the number of kids.
    // The count is real: both consumers' earlier fetches were seen.
    expect(fetchesBefore).toBeGreaterThanOrEqual(2);
    expect(fetches).toBeLessThanOrEqual(PER_MINUTE + Math.floor((PER_MINUTE * elapsedMs) / 60_000));
    expect(consumer.child.exitCode).toBeNull();

    console.log(
      `unknown-kid storm: ${TOTAL} requests in ${elapsedMs} ms, ${fetches} JWKS fetches at Tessera (${fetchesBefore} before), ${steady.length} valid requests passed`,
    );
  });
  describe('with Tessera’s introspection as the revocation check (INTROSPECTION_* env)', () => {
    /** fastify authenticates with the tenant's X-Api-Key, express with a client of the tenant (client_secret_basic). */
    const withIntrospection = {} as Record<Adapter, Consumer>;

    beforeAll(async () => {
      const client = await t.http
        .post(`/v1/tenants/${tenant.id}/clients`)
        .set(tenant.apiKey)
        .send({ name: 'consumer-introspection', scopes: ['read'] })
        .expect(201);
      const common = {
        TESSERA_URL: tessera,
        TENANT_IDS: tenant.id,
        INTROSPECTION_CACHE_TTL_MS: String(INTROSPECTION_TTL_MS),
        INTROSPECTION_TIMEOUT_MS: '2000',
      };
      const [fastify, express] = await Promise.all([
        startConsumer('fastify', { ...common, INTROSPECTION_API_KEY: tenant.apiKey['x-api-key'] }),
        startConsumer('express', {
          ...common,
          INTROSPECTION_CLIENT_ID: client.body.clientId,
          INTROSPECTION_CLIENT_SECRET: client.body.clientSecret,
        }),
      ]);
      withIntrospection.fastify = fastify;
      withIntrospection.express = express;
    });
    afterAll(() => Promise.all(ADAPTERS.map((adapter) => stopConsumer(withIntrospection[adapter]))));

    it('refuses a token revoked with POST /oauth/revoke with 401 TOKEN_REVOKED within the introspection cache TTL; other tokens keep passing', async () => {
      const revoked = await issue({ sub: 'to-revoke' });
      const kept = await issue({ sub: 'kept' });
      for (const adapter of ADAPTERS) {
        expect(await guarded(withIntrospection[adapter], revoked)).toMatchObject({ status: 200, body: { sub: 'to-revoke' } });
        expect(await guarded(withIntrospection[adapter], kept)).toMatchObject({ status: 200, body: { sub: 'kept' } });
        // The consumers without introspection verify locally and accept it too.
        expect((await guarded(consumers[adapter], revoked)).status).toBe(200);
      }

      await t.http
        .post('/oauth/revoke')
        .set(tenant.apiKey)
        .type('form')
        .send(new URLSearchParams({ token: revoked }).toString())
        .expect(200);
      const revokedAt = Date.now();
      for (const adapter of ADAPTERS) {
        await waitFor(
          async () => (await guarded(withIntrospection[adapter], revoked)).status === 401,
          INTROSPECTION_TTL_MS + 2000,
          `the revoked token to be refused on ${adapter}`,
        );
      }
      expect(Date.now() - revokedAt).toBeLessThan(INTROSPECTION_TTL_MS + 2000);
      for (const adapter of ADAPTERS) {
        expectRefused(await guarded(withIntrospection[adapter], revoked), 'TOKEN_REVOKED');
        expect(await guarded(withIntrospection[adapter], kept)).toMatchObject({ status: 200, body: { sub: 'kept' } });
      }
      // A token revoked before the consumer ever saw it is refused on first sight.
      const revokedUnseen = await issue({ sub: 'revoked-unseen' });
      await t.http
        .post('/oauth/revoke')
        .set(tenant.apiKey)
        .type('form')
        .send(new URLSearchParams({ token: revokedUnseen }).toString())
        .expect(200);
      for (const adapter of ADAPTERS) expectRefused(await guarded(withIntrospection[adapter], revokedUnseen), 'TOKEN_REVOKED');
    });

    it('accepts the tenant’s registered-key tokens through introspection too (active for the same tenant)', async () => {
      // The registered key was deleted by an earlier test; register a new one for this check.
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const reg = await t.http
        .post(`/v1/tenants/${tenant.id}/jwt-keys`)
        .set(tenant.apiKey)
        .send({ label: 'backend-2', algorithm: 'RS256', publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }) })
        .expect(201);
      const iat = now();
      const token = signJwt(
        { alg: 'RS256', kid: reg.body.kid, typ: 'JWT' },
        { iss: tenant.id, sub: 'backend-user', aud: tessera, iat, exp: iat + 300, scope: 'read' },
        pair.privateKey,
      );
      for (const adapter of ADAPTERS) {
        expect(await guarded(withIntrospection[adapter], token)).toMatchObject({ status: 200, body: { sub: 'backend-user' } });
      }
    });
  });
});
