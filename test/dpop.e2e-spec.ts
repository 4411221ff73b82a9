import { randomBytes, generateKeyPairSync, KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, decodeJwt, exportJWK, SignJWT } from 'jose';
import { accessTokenHash } from '@tessera/nest-guard';
import { freePort } from './utils/process';
import { startTestApp, TestApp } from './utils/test-app';
import { createTenant } from './utils/verification-fixtures';

/**
 * DPoP (RFC 9449) end to end on real Postgres, with proofs built by hand with jose: issuance at
 * both token endpoints, the bound refresh family, the guard (/v1/me), forward-auth (the forwarded
 * method and URL from FORWARD_AUTH_SOURCE), introspection, nonces, and jti single use across two
 * replicas. Every refusal is checked for its code and its DPoP challenge.
 */
interface Holder {
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
  jkt: string;
}

async function holder(): Promise<Holder> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk as never) };
}

interface ProofOptions {
  htm?: string;
  htu: string;
  token?: string;
  iat?: number;
  jti?: string;
  nonce?: string;
  header?: Record<string, unknown>;
  alg?: string;
  key?: KeyObject | Uint8Array;
  claims?: Record<string, unknown>;
}

function proof(h: Holder, o: ProofOptions): Promise<string> {
  const payload: Record<string, unknown> = {
    htm: o.htm ?? 'GET',
    htu: o.htu,
    jti: o.jti ?? randomBytes(12).toString('base64url'),
    iat: o.iat ?? Math.floor(Date.now() / 1000),
    ...(o.token ? { ath: accessTokenHash(o.token) } : {}),
    ...(o.nonce ? { nonce: o.nonce } : {}),
    ...o.claims,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ typ: 'dpop+jwt', alg: o.alg ?? 'ES256', jwk: h.jwk, ...o.header } as never)
    .sign(o.key ?? h.privateKey);
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('DPoP (e2e)', () => {
  let t: TestApp;
  let base: string;
  let tenant: { id: string; apiKey: Record<string, string> };
  let client: { clientId: string; clientSecret: string };
  const keyEncryptionKey = randomBytes(32).toString('hex');

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    t = await startTestApp({ env: { PUBLIC_URL: base, KEY_ENCRYPTION_KEY: keyEncryptionKey, REFRESH_REUSE_GRACE_SECONDS: '0' } });
    await t.tessera.app.listen({ port, host: '127.0.0.1' });
    tenant = await createTenant(t, 'dpop');
    client = (
      await t.http
        .post(`/v1/tenants/${tenant.id}/clients`)
        .set(tenant.apiKey)
        .send({ name: 'worker', scopes: ['orders:read'] })
        .expect(201)
    ).body;
  });
  afterAll(() => t?.close());

  const tokensUrl = () => `${base}/v1/tenants/${tenant.id}/tokens`;
  const meUrl = () => `${base}/v1/me`;

  async function issue(h: Holder | undefined, body: Record<string, unknown> = { sub: 'user-1' }, proofOverride?: string) {
    const headers: Record<string, string> = { ...tenant.apiKey, 'content-type': 'application/json' };
    if (h) headers.dpop = proofOverride ?? (await proof(h, { htm: 'POST', htu: tokensUrl() }));
    return fetch(tokensUrl(), { method: 'POST', headers, body: JSON.stringify(body) });
  }

  async function boundToken(h: Holder, body?: Record<string, unknown>) {
    const res = await issue(h, body);
    expect(res.status).toBe(201);
    return (await res.json()) as { access_token: string; token_type: string; refresh_token: string };
  }

  const me = (authorization: string, dpop?: string) => fetch(meUrl(), { headers: { authorization, ...(dpop ? { dpop } : {}) } });

  async function refused(res: Response, code: string, error = 'invalid_dpop_proof') {
    const body = (await res.json()) as { code: string; message: string };
    expect({ status: res.status, code: body.code }).toEqual({ status: 401, code });
    expect(res.headers.get('www-authenticate')).toMatch(new RegExp(`^DPoP algs="[^"]*ES256[^"]*", error="${error}"`));
    return body;
  }

  describe('issuance', () => {
    it('answers token_type DPoP and an access token with cnf.jkt, and binds the public caller’s refresh family', async () => {
      const h = await holder();
      const tokens = await boundToken(h);
      expect(tokens.token_type).toBe('DPoP');
      expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: h.jkt });
      const [family] = await t.sql<{ dpop_jkt: string }>(
        `SELECT dpop_jkt FROM refresh_families WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 1`,
        [tenant.id],
      );
      expect(family.dpop_jkt).toBe(h.jkt);
      // Without a proof nothing changes: Bearer, no cnf, unbound family.
      const plain = (await (await issue(undefined)).json()) as { access_token: string; token_type: string };
      expect(plain.token_type).toBe('Bearer');
      expect(decodeJwt(plain.access_token).cnf).toBeUndefined();
    });

    it('refuses a proof for another URL, another method, or one used twice (jti in Postgres)', async () => {
      const h = await holder();
      await refused(await issue(h, undefined, await proof(h, { htm: 'POST', htu: `${base}/oauth/token` })), 'INVALID_DPOP_PROOF');
      await refused(await issue(h, undefined, await proof(h, { htm: 'GET', htu: tokensUrl() })), 'INVALID_DPOP_PROOF');
      const once = await proof(h, { htm: 'POST', htu: tokensUrl() });
      expect((await issue(h, undefined, once)).status).toBe(201);
      const again = await refused(await issue(h, undefined, once), 'INVALID_DPOP_PROOF');
      expect(again.message).toMatch(/already used/);
    });

    it('client_credentials at /oauth/token: token_type DPoP, cnf.jkt; introspection answers cnf', async () => {
      const h = await holder();
      const basic = Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64');
      const res = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          dpop: await proof(h, { htm: 'POST', htu: `${base}/oauth/token` }),
        },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
      expect(res.status).toBe(200);
      const tokens = (await res.json()) as { access_token: string; token_type: string };
      expect(tokens.token_type).toBe('DPoP');
      expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: h.jkt });
      const introspected = await t.http
        .post('/oauth/introspect')
        .set('authorization', `Basic ${basic}`)
        .type('form')
        .send({ token: tokens.access_token })
        .expect(200);
      expect(introspected.body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: h.jkt } });

      // RFC 9449 §5: a bad proof at the token endpoint is 400 invalid_dpop_proof.
      const bad = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          dpop: await proof(h, { htm: 'POST', htu: `${base}/oauth/other` }),
        },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ error: 'invalid_dpop_proof' });
    });

    it('a tenant with requireDpop refuses token requests without a proof', async () => {
      const created = await t.http
        .post('/v1/tenants')
        .set({ 'x-api-key': t.adminKey })
        .send({ name: 'dpop-required', requireDpop: true })
        .expect(201);
      expect(created.body.requireDpop).toBe(true);
      const url = `${base}/v1/tenants/${created.body.id}/tokens`;
      const headers = { 'x-api-key': t.adminKey, 'content-type': 'application/json' };
      const without = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ sub: 'u' }) });
      await refused(without, 'INVALID_DPOP_PROOF');
      const h = await holder();
      const withProof = await fetch(url, {
        method: 'POST',
        headers: { ...headers, dpop: await proof(h, { htm: 'POST', htu: url }) },
        body: JSON.stringify({ sub: 'u' }),
      });
      expect(withProof.status).toBe(201);
      const c = (
        await t.http
          .post(`/v1/tenants/${created.body.id}/clients`)
          .set({ 'x-api-key': t.adminKey })
          .send({ name: 'c', scopes: [] })
          .expect(201)
      ).body;
      const cc = await t.http.post('/oauth/token').auth(c.clientId, c.clientSecret).type('form').send({ grant_type: 'client_credentials' });
      expect(cc.status).toBe(400);
      expect(cc.body.error).toBe('invalid_dpop_proof');
    });

    it('a client with dpopBoundAccessTokens refuses token requests without a proof, at both endpoints', async () => {
      const c = (
        await t.http
          .post(`/v1/tenants/${tenant.id}/clients`)
          .set(tenant.apiKey)
          .send({ name: 'bound', scopes: [], dpopBoundAccessTokens: true })
          .expect(201)
      ).body;
      expect(c.dpopBoundAccessTokens).toBe(true);
      const cc = await t.http.post('/oauth/token').auth(c.clientId, c.clientSecret).type('form').send({ grant_type: 'client_credentials' });
      expect([cc.status, cc.body.error]).toEqual([400, 'invalid_dpop_proof']);
      await refused(await issue(undefined, { sub: 'u', clientId: c.clientId }), 'INVALID_DPOP_PROOF');
      const h = await holder();
      const ok = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          dpop: await proof(h, { htm: 'POST', htu: `${base}/oauth/token` }),
        },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
      expect(((await ok.json()) as { token_type: string }).token_type).toBe('DPoP');
      // With a client, only the access token is bound: the client authenticates its refresh tokens itself.
      expect((await issue(h, { sub: 'u', clientId: c.clientId })).status).toBe(201);
    });

    it('discovery lists dpop_signing_alg_values_supported (asymmetric only)', async () => {
      const res = await t.http.get('/.well-known/oauth-authorization-server').expect(200);
      expect(res.body.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'RS256', 'PS256', 'EdDSA']));
      expect(res.body.dpop_signing_alg_values_supported.some((a: string) => a.startsWith('HS') || a === 'none')).toBe(false);
    });
  });

  describe('refresh of a bound family', () => {
    const refresh = async (refreshToken: string, dpop?: string) =>
      fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(dpop ? { dpop } : {}) },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
      });
    const tokenProof = (h: Holder) => proof(h, { htm: 'POST', htu: `${base}/oauth/token` });

    it('needs a proof of the family’s key; a refused rotation does not use the token up or end the family', async () => {
      const h = await holder();
      const other = await holder();
      const tokens = await boundToken(h);
      const none = await refresh(tokens.refresh_token);
      expect(none.status).toBe(400);
      expect(await none.json()).toMatchObject({ error: 'invalid_dpop_proof' });
      const wrongKey = await refresh(tokens.refresh_token, await tokenProof(other));
      expect(wrongKey.status).toBe(400);
      expect(await wrongKey.json()).toMatchObject({ error: 'invalid_dpop_proof' });

      const ok = await refresh(tokens.refresh_token, await tokenProof(h));
      expect(ok.status).toBe(200);
      const rotated = (await ok.json()) as { access_token: string; token_type: string; refresh_token: string };
      expect(rotated.token_type).toBe('DPoP');
      expect(decodeJwt(rotated.access_token).cnf).toEqual({ jkt: h.jkt });
      // The child is bound too: a thief's key cannot use it.
      expect((await refresh(rotated.refresh_token, await tokenProof(other))).status).toBe(400);
      expect((await refresh(rotated.refresh_token, await tokenProof(h))).status).toBe(200);
    });
  });

  describe('the guard (/v1/me)', () => {
    it('accepts Authorization: DPoP with a fresh proof per request, and refuses the bound token as Bearer', async () => {
      const h = await holder();
      const { access_token: at } = await boundToken(h);
      for (let i = 0; i < 2; i++) {
        const res = await me(`DPoP ${at}`, await proof(h, { htu: meUrl(), token: at }));
        expect(res.status).toBe(200);
      }
      const asBearer = await me(`Bearer ${at}`);
      await refused(asBearer, 'INVALID_TOKEN_TYPE', 'invalid_token');
    });

    it('refuses each bad proof with invalid_dpop_proof', async () => {
      const h = await holder();
      const other = await holder();
      const { access_token: at } = await boundToken(h);
      const now = Math.floor(Date.now() / 1000);
      const privateJwk = (await exportJWK(h.privateKey)) as Record<string, unknown>;
      const hmacKey = new TextEncoder().encode('a-shared-secret-of-at-least-32-bytes!');
      const replayed = await proof(h, { htu: meUrl(), token: at });
      expect((await me(`DPoP ${at}`, replayed)).status).toBe(200);
      const cases: Record<string, string> = {
        'wrong htm': await proof(h, { htm: 'POST', htu: meUrl(), token: at }),
        'wrong htu': await proof(h, { htu: `${base}/v1/other`, token: at }),
        'stale iat': await proof(h, { htu: meUrl(), token: at, iat: now - 600 }),
        'replayed jti': replayed,
        'wrong ath': await proof(h, { htu: meUrl(), token: `${at}x` }),
        'another key': await proof(other, { htu: meUrl(), token: at }),
        'private key in jwk': await proof({ ...h, jwk: privateJwk }, { htu: meUrl(), token: at }),
        'alg none': `${b64({ typ: 'dpop+jwt', alg: 'none', jwk: h.jwk })}.${b64({ htm: 'GET', htu: meUrl(), jti: 'n1', iat: now, ath: accessTokenHash(at) })}.`,
        HS256: await proof(h, { htu: meUrl(), token: at, alg: 'HS256', key: hmacKey }),
        missing: '',
      };
      for (const [name, dpop] of Object.entries(cases)) {
        const res = await me(`DPoP ${at}`, dpop || undefined);
        const body = await refused(res, 'INVALID_DPOP_PROOF').catch((error: Error) => {
          throw new Error(`${name}: ${error.message}`);
        });
        expect(body.message).not.toContain(at);
      }
    });
  });

  describe('forward-auth (/v1/auth/verify, FORWARD_AUTH_SOURCE=nginx)', () => {
    const publicUrl = 'https://api.example.com/orders/7';
    const verify = (authorization: string, dpop: string | undefined, forwarded: Record<string, string> = {}) =>
      fetch(`${base}/v1/auth/verify`, {
        headers: {
          authorization,
          ...(dpop ? { dpop } : {}),
          'x-original-method': 'DELETE',
          'x-original-uri': '/orders/7?force=1',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'api.example.com',
          ...forwarded,
        },
      });

    it('checks the proof against the forwarded method and proto://host/path (no query)', async () => {
      const h = await holder();
      const { access_token: at } = await boundToken(h);
      const ok = await verify(`DPoP ${at}`, await proof(h, { htm: 'DELETE', htu: publicUrl, token: at }));
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-user-id')).toBe('user-1');

      await refused(await verify(`DPoP ${at}`, await proof(h, { htm: 'GET', htu: publicUrl, token: at })), 'INVALID_DPOP_PROOF');
      await refused(
        await verify(`DPoP ${at}`, await proof(h, { htm: 'DELETE', htu: `${base}/v1/auth/verify`, token: at })),
        'INVALID_DPOP_PROOF',
      );
      // The host comes from the configured source only: another X-Forwarded-Host makes another htu.
      await refused(
        await verify(`DPoP ${at}`, await proof(h, { htm: 'DELETE', htu: publicUrl, token: at }), {
          'x-forwarded-host': 'evil.example.com',
        }),
        'INVALID_DPOP_PROOF',
      );
      await refused(await verify(`Bearer ${at}`, undefined), 'INVALID_TOKEN_TYPE', 'invalid_token');
    });
  });

  describe('across replicas and with nonces', () => {
    let b: TestApp | undefined;
    afterAll(() => b?.close());

    it('a proof used on one replica is refused on another (jti single use in Postgres)', async () => {
      b = await startTestApp({ databaseUrl: t.databaseUrl, env: { PUBLIC_URL: base, KEY_ENCRYPTION_KEY: keyEncryptionKey } });
      const h = await holder();
      const { access_token: at } = await boundToken(h);
      const p = await proof(h, { htu: meUrl(), token: at });
      expect((await me(`DPoP ${at}`, p)).status).toBe(200);
      const onB = await b.http.get('/v1/me').set({ authorization: `DPoP ${at}`, dpop: p });
      expect(onB.status).toBe(401);
      expect(onB.body.code).toBe('INVALID_DPOP_PROOF');
    });
  });
});

describe('DPoP nonces (e2e, DPOP_NONCE_REQUIRED=true)', () => {
  let a: TestApp;
  let b: TestApp;
  let base: string;
  let tenantId: string;
  const adminKey = `admin_${randomBytes(24).toString('base64url')}`;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      PUBLIC_URL: base,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      ADMIN_API_KEY: adminKey,
      DPOP_NONCE_REQUIRED: 'true',
    };
    a = await startTestApp({ env });
    await a.tessera.app.listen({ port, host: '127.0.0.1' });
    b = await startTestApp({ databaseUrl: a.databaseUrl, env });
    tenantId = (await a.http.post('/v1/tenants').set({ 'x-api-key': adminKey }).send({ name: 'nonces' }).expect(201)).body.id;
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('asks for a nonce (use_dpop_nonce + DPoP-Nonce), accepts it on another replica, and the guard asks too', async () => {
    const h = await holder();
    const url = `${base}/v1/tenants/${tenantId}/tokens`;
    const headers = { 'x-api-key': adminKey, 'content-type': 'application/json' };
    const first = await fetch(url, {
      method: 'POST',
      headers: { ...headers, dpop: await proof(h, { htm: 'POST', htu: url }) },
      body: JSON.stringify({ sub: 'u' }),
    });
    expect(first.status).toBe(401);
    expect(((await first.json()) as { code: string }).code).toBe('USE_DPOP_NONCE');
    expect(first.headers.get('www-authenticate')).toMatch(/error="use_dpop_nonce"/);
    const nonce = first.headers.get('dpop-nonce')!;
    expect(nonce).toBeTruthy();

    // Replica B issued nothing, yet accepts A's nonce: the nonce is an HMAC of the time step under a shared derived key.
    const onB = await b.http
      .post(`/v1/tenants/${tenantId}/tokens`)
      .set({ 'x-api-key': adminKey, dpop: await proof(h, { htm: 'POST', htu: url, nonce }) })
      .send({ sub: 'u' });
    expect([onB.status, onB.body.code]).toEqual([201, undefined]);
    const at = onB.body.access_token as string;

    const noNonce = await fetch(`${base}/v1/me`, {
      headers: { authorization: `DPoP ${at}`, dpop: await proof(h, { htu: `${base}/v1/me`, token: at }) },
    });
    expect(noNonce.status).toBe(401);
    expect(((await noNonce.json()) as { code: string }).code).toBe('USE_DPOP_NONCE');
    const retried = await fetch(`${base}/v1/me`, {
      headers: { authorization: `DPoP ${at}`, dpop: await proof(h, { htu: `${base}/v1/me`, token: at, nonce }) },
    });
    expect(retried.status).toBe(200);

    const oauth = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await proof(h, { htm: 'POST', htu: `${base}/oauth/token` }) },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: onB.body.refresh_token }),
    });
    expect(oauth.status).toBe(400);
    expect(await oauth.json()).toMatchObject({ error: 'use_dpop_nonce' });
    expect(oauth.headers.get('dpop-nonce')).toBeTruthy();
  });
});
