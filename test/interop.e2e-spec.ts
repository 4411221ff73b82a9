import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import jsonwebtoken, { JwtPayload } from 'jsonwebtoken';
import { JwksClient } from 'jwks-rsa';
import * as oidc from 'openid-client';
import { freePort } from './utils/process';
import { startTestApp, TestApp } from './utils/test-app';

/**
 * Interop with libraries no one here wrote, against the real app listening on a real port:
 * jose's createRemoteJWKSet, jwks-rsa + jsonwebtoken, and openid-client (v6) driven only by
 * Tessera's discovery document. Every client talks HTTP to 127.0.0.1, as a resource server or
 * an OAuth client would.
 */
describe('interop with third-party libraries (e2e)', () => {
  let t: TestApp;
  let issuer: string;
  let tenant: { id: string; apiKey: { 'x-api-key': string } };
  let client: { clientId: string; clientSecret: string };
  let otherClient: { clientId: string; clientSecret: string };
  const admin = () => ({ 'x-api-key': t.adminKey });
  /** openid-client over plain http (127.0.0.1 only; production runs behind TLS). */
  const insecure = { execute: [oidc.allowInsecureRequests] };

  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    t = await startTestApp({ env: { PUBLIC_URL: issuer, ACCESS_TOKEN_TTL: '300', REFRESH_REUSE_GRACE_SECONDS: '0' } });
    await t.tessera.app.listen({ port, host: '127.0.0.1' });

    const created = await t.http.post('/v1/tenants').set(admin()).send({ name: 'interop' }).expect(201);
    const key = await t.http.post(`/v1/tenants/${created.body.id}/api-keys`).set(admin()).send({}).expect(201);
    tenant = { id: created.body.id, apiKey: { 'x-api-key': key.body.key } };
    client = (
      await t.http
        .post(`/v1/tenants/${tenant.id}/clients`)
        .set(tenant.apiKey)
        .send({ name: 'worker', scopes: ['orders:read', 'orders:write'] })
        .expect(201)
    ).body;
    otherClient = (
      await t.http
        .post(`/v1/tenants/${tenant.id}/clients`)
        .set(tenant.apiKey)
        .send({ name: 'other', scopes: ['orders:read'] })
        .expect(201)
    ).body;
  });
  afterAll(() => t?.close());

  /** A token from the tenant API, over the real port (fetch, not supertest). */
  async function issueForTenant(body: Record<string, unknown>) {
    const res = await fetch(`${issuer}/v1/tenants/${tenant.id}/tokens`, {
      method: 'POST',
      headers: { ...tenant.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { access_token: string; refresh_token?: string; scope: string; expires_in: number };
  }

  /** client_credentials with client_secret_basic, by hand (the library path is tested below). */
  async function clientCredentials(scope?: string) {
    const basic = Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64');
    const res = await fetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { access_token: string; scope: string };
  }

  async function discoveredJwksUri(): Promise<string> {
    const res = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    const metadata = (await res.json()) as { issuer: string; jwks_uri: string };
    expect(metadata.issuer).toBe(issuer);
    return metadata.jwks_uri;
  }

  describe('resource-server libraries against the live JWKS', () => {
    it('jose createRemoteJWKSet + jwtVerify accepts tenant-issued and client_credentials tokens (iss, aud, typ at+jwt)', async () => {
      const jwks = createRemoteJWKSet(new URL(await discoveredJwksUri()));
      const options = { issuer, audience: issuer, typ: 'at+jwt', algorithms: ['RS256'] };

      const tenantToken = await issueForTenant({ sub: 'user-1', scope: 'orders:read', claims: { groupRef: 'g-1' }, refreshToken: false });
      const a = await jwtVerify(tenantToken.access_token, jwks, options);
      expect(a.protectedHeader).toEqual({ alg: 'RS256', kid: expect.any(String), typ: 'at+jwt' });
      expect(a.payload).toMatchObject({
        iss: issuer,
        aud: issuer,
        sub: 'user-1',
        client_id: tenant.id,
        tenant_id: tenant.id,
        scope: 'orders:read',
        groupRef: 'g-1',
      });

      const ccToken = await clientCredentials('orders:write');
      const b = await jwtVerify(ccToken.access_token, jwks, options);
      expect(b.payload).toMatchObject({
        iss: issuer,
        aud: issuer,
        sub: client.clientId,
        client_id: client.clientId,
        tenant_id: tenant.id,
        scope: 'orders:write',
      });

      // The same verifier refuses what it should: another audience, another issuer, a forged signature.
      await expect(jwtVerify(ccToken.access_token, jwks, { ...options, audience: 'https://someone-else.test' })).rejects.toMatchObject({
        code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      });
      await expect(jwtVerify(ccToken.access_token, jwks, { ...options, issuer: 'https://tessera.test' })).rejects.toMatchObject({
        code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      });
      const [h, p, s] = ccToken.access_token.split('.');
      const forged = `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
      await expect(jwtVerify(forged, jwks, options)).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
    });

    it('jwks-rsa getSigningKey(kid) + jsonwebtoken verify accepts the same tokens; an unknown kid is not found', async () => {
      const jwksClient = new JwksClient({ jwksUri: await discoveredJwksUri(), cache: true, rateLimit: false, timeout: 5000 });
      const tokens = [
        (await issueForTenant({ sub: 'user-2', refreshToken: false })).access_token,
        (await clientCredentials()).access_token,
      ];
      for (const token of tokens) {
        const { kid, alg } = decodeProtectedHeader(token);
        const signingKey = await jwksClient.getSigningKey(kid!);
        expect(signingKey.kid).toBe(kid);
        expect(alg).toBe('RS256');
        const verified = jsonwebtoken.verify(token, signingKey.getPublicKey(), {
          algorithms: ['RS256'],
          issuer,
          audience: issuer,
          complete: true,
        });
        expect(verified.header).toMatchObject({ alg: 'RS256', typ: 'at+jwt', kid });
        expect(verified.payload as JwtPayload).toMatchObject({ iss: issuer, aud: issuer, tenant_id: tenant.id, jti: expect.any(String) });
        // Wrong audience: jsonwebtoken refuses it.
        expect(() =>
          jsonwebtoken.verify(token, signingKey.getPublicKey(), { algorithms: ['RS256'], issuer, audience: 'https://someone-else.test' }),
        ).toThrow(/audience invalid/);
      }
      await expect(jwksClient.getSigningKey('no-such-kid')).rejects.toMatchObject({ name: 'SigningKeyNotFoundError' });
    });
  });

  describe('openid-client through the discovery document', () => {
    const basicConfig = (c = client, algorithm: 'oidc' | 'oauth2' = 'oidc') =>
      oidc.discovery(new URL(issuer), c.clientId, c.clientSecret, oidc.ClientSecretBasic(), { ...insecure, algorithm });
    const postConfig = (c = client) => oidc.discovery(new URL(issuer), c.clientId, c.clientSecret, oidc.ClientSecretPost(), insecure);

    it('discovers Tessera at both well-known paths and refuses plain http without allowInsecureRequests', async () => {
      for (const algorithm of ['oidc', 'oauth2'] as const) {
        const metadata = (await basicConfig(client, algorithm)).serverMetadata();
        expect(metadata).toMatchObject({
          issuer,
          jwks_uri: `${issuer}/.well-known/jwks.json`,
          token_endpoint: `${issuer}/oauth/token`,
          revocation_endpoint: `${issuer}/oauth/revoke`,
          introspection_endpoint: `${issuer}/oauth/introspect`,
        });
      }
      // The control: the library is really checking transport security, so the option above matters.
      await expect(oidc.discovery(new URL(issuer), client.clientId, client.clientSecret)).rejects.toThrow(/HTTPS/i);
    });

    it('performs client_credentials with client_secret_basic and client_secret_post; an outside scope is invalid_scope', async () => {
      const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
      for (const config of [await basicConfig(), await postConfig()]) {
        const tokens = await oidc.clientCredentialsGrant(config, { scope: 'orders:read' });
        expect(tokens.token_type.toLowerCase()).toBe('bearer');
        expect(tokens.scope).toBe('orders:read');
        expect(tokens.expiresIn()).toBeGreaterThan(290);
        expect(tokens.refresh_token).toBeUndefined();
        const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer, audience: issuer, typ: 'at+jwt' });
        expect(payload).toMatchObject({ sub: client.clientId, client_id: client.clientId, scope: 'orders:read', tenant_id: tenant.id });
      }
      await expect(oidc.clientCredentialsGrant(await basicConfig(), { scope: 'orders:delete' })).rejects.toMatchObject({
        error: 'invalid_scope',
        status: 400,
      });
      const wrongSecret = await oidc.discovery(
        new URL(issuer),
        client.clientId,
        `${client.clientSecret}x`,
        oidc.ClientSecretBasic(),
        insecure,
      );
      // With Basic, Tessera answers 401 with `WWW-Authenticate: Basic realm="tessera"` (RFC 6749 §5.2 requires it); the
      // library surfaces that as a challenge error, the RFC 6749 body still being there to read.
      const challenged = await oidc.clientCredentialsGrant(wrongSecret).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(challenged).toMatchObject({
        name: 'WWWAuthenticateChallengeError',
        status: 401,
        cause: [{ scheme: 'basic', parameters: { realm: 'tessera' } }],
      });
      expect(await (challenged as { response: Response }).response.json()).toEqual({
        error: 'invalid_client',
        error_description: expect.any(String),
      });
      const wrongPost = await oidc.discovery(
        new URL(issuer),
        client.clientId,
        `${client.clientSecret}x`,
        oidc.ClientSecretPost(),
        insecure,
      );
      await expect(oidc.clientCredentialsGrant(wrongPost)).rejects.toMatchObject({
        name: 'ResponseBodyError',
        error: 'invalid_client',
        status: 401,
      });
    });

    it('refreshes a token issued to the client: a new, different pair; the old refresh token is then refused (reuse)', async () => {
      const config = await basicConfig();
      const issued = await issueForTenant({ sub: 'user-3', clientId: client.clientId, scope: 'orders:read orders:write' });
      expect(issued.refresh_token).toEqual(expect.any(String));

      const refreshed = await oidc.refreshTokenGrant(config, issued.refresh_token!);
      expect(refreshed.access_token).not.toBe(issued.access_token);
      expect(refreshed.refresh_token).toEqual(expect.any(String));
      expect(refreshed.refresh_token).not.toBe(issued.refresh_token);
      expect(refreshed.scope).toBe('orders:read orders:write');
      const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
      const { payload } = await jwtVerify(refreshed.access_token, jwks, { issuer, audience: issuer, typ: 'at+jwt' });
      expect(payload).toMatchObject({ sub: 'user-3', client_id: client.clientId, tenant_id: tenant.id, scope: 'orders:read orders:write' });

      // A narrower scope through the library's parameters, with client_secret_post this time.
      const narrowed = await oidc.refreshTokenGrant(await postConfig(), refreshed.refresh_token!, { scope: 'orders:read' });
      expect(narrowed.scope).toBe('orders:read');
      expect(narrowed.refresh_token).not.toBe(refreshed.refresh_token);

      // Another client of the same tenant cannot use this family.
      await expect(oidc.refreshTokenGrant(await basicConfig(otherClient), narrowed.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
      // The grace window is 0 here: presenting a used token is reuse, and it ends the family — the newest token too.
      await expect(oidc.refreshTokenGrant(config, issued.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant', status: 400 });
      await expect(oidc.refreshTokenGrant(config, narrowed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant', status: 400 });
    });

    it('introspects an access token (active with its claims), revokes it, and then introspection says inactive', async () => {
      for (const config of [await basicConfig(), await postConfig()]) {
        const { access_token: accessToken } = await oidc.clientCredentialsGrant(config, { scope: 'orders:write' });
        const before = await oidc.tokenIntrospection(config, accessToken);
        expect(before).toMatchObject({
          active: true,
          iss: issuer,
          sub: client.clientId,
          aud: issuer,
          client_id: client.clientId,
          scope: 'orders:write',
          tenant_id: tenant.id,
          token_type: 'Bearer',
          jti: expect.any(String),
          exp: expect.any(Number),
          iat: expect.any(Number),
        });

        await oidc.tokenRevocation(config, accessToken, { token_type_hint: 'access_token' });
        expect(await oidc.tokenIntrospection(config, accessToken)).toEqual({ active: false });
        // The effect is real beyond introspection: the jti is on the denylist and forward-auth refuses the token.
        const rows = await t.sql<{ count: string }>('SELECT count(*)::text AS count FROM revoked_jtis WHERE tenant_id = $1 AND jti = $2', [
          tenant.id,
          before.jti,
        ]);
        expect(rows[0].count).toBe('1');
        const forward = await fetch(`${issuer}/v1/auth/verify`, { headers: { authorization: `Bearer ${accessToken}` } });
        expect(forward.status).toBe(401);
      }
      // Garbage and foreign-looking tokens: exactly {active: false}; revoking them still succeeds (RFC 7009 §2.2).
      const config = await basicConfig();
      expect(await oidc.tokenIntrospection(config, 'not-a-token')).toEqual({ active: false });
      await expect(oidc.tokenRevocation(config, 'not-a-token')).resolves.toBeUndefined();
    });

    it('revokes a refresh token: its family ends and refreshing with it is invalid_grant', async () => {
      const config = await basicConfig();
      const issued = await issueForTenant({ sub: 'user-4', clientId: client.clientId, scope: 'orders:read' });
      // Refresh tokens are opaque to introspection (ADR 0007): never active.
      expect(await oidc.tokenIntrospection(config, issued.refresh_token!)).toEqual({ active: false });
      await oidc.tokenRevocation(config, issued.refresh_token!, { token_type_hint: 'refresh_token' });
      await expect(oidc.refreshTokenGrant(config, issued.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant', status: 400 });
    });
  });

  it('documents HTTP Basic client authentication on the OAuth endpoints in OpenAPI', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    expect(doc.components.securitySchemes['client-basic']).toMatchObject({ type: 'http', scheme: 'basic' });
    for (const path of ['/oauth/token', '/oauth/revoke', '/oauth/introspect']) {
      expect(doc.paths[path].post.security).toEqual(expect.arrayContaining([{ 'client-basic': [] }]));
    }
  });
});
