import { generateKeyPairSync, KeyObject, randomUUID, webcrypto } from 'node:crypto';
import * as oidc from 'openid-client';
import { freePort } from './utils/process';
import { startTestApp, TestApp } from './utils/test-app';
import { signTestJwt } from './utils/test-jwt';
import { startWorkloadIssuer, WorkloadIssuer } from './utils/workload-issuer';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * private_key_jwt client authentication (RFC 7523 §2.2, RFC 7521 §4.2, OIDC Core §9) at
 * /oauth/token, /oauth/introspect and /oauth/revoke: openid-client v6's PrivateKeyJwt against
 * the real app on a real port, with keys registered inline (jwks) or published (jwksUri); then
 * every refusal by hand-made assertions — each 401 invalid_client with an audit event.
 */
describe('private_key_jwt clients (e2e)', () => {
  let t: TestApp;
  let issuer: string;
  let tenant: { id: string; key: { 'x-api-key': string } };
  let es256: { privateKey: KeyObject; kid: string };
  let inline: { clientId: string };
  let published: { clientId: string };
  let secretClient: { clientId: string; clientSecret: string };
  let keyHost: WorkloadIssuer;
  const admin = () => ({ 'x-api-key': t.adminKey });
  const insecure = { execute: [oidc.allowInsecureRequests] };

  const createClient = (body: Record<string, unknown>) =>
    t.http
      .post(`/v1/tenants/${tenant.id}/clients`)
      .set(tenant.key)
      .send({ name: 'svc', scopes: ['orders:read', 'orders:write'], ...body });

  /** A CryptoKey for openid-client from a node KeyObject. */
  async function cryptoKey(
    key: KeyObject,
    algorithm: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams,
  ): Promise<oidc.CryptoKey> {
    return (await webcrypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), algorithm, false, [
      'sign',
    ])) as oidc.CryptoKey;
  }

  async function lastAuditEvent(type: string) {
    return (await t.http.get('/v1/audit-events').query({ type, limit: 1 }).set(admin()).expect(200)).body[0];
  }

  /** A hand-made assertion of the inline client (ES256, its kid), with `claims` over the defaults. */
  function assertion(
    claims: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
    key: KeyObject | string = es256.privateKey,
  ): string {
    const now = Math.floor(Date.now() / 1000);
    const h = { alg: 'ES256', kid: es256.kid, ...header };
    return signTestJwt(
      h,
      { iss: inline.clientId, sub: inline.clientId, aud: issuer, iat: now, exp: now + 60, jti: randomUUID(), ...claims },
      key,
      String(h.alg),
    );
  }

  const token = (clientAssertion: string, extra: Record<string, string> = {}) =>
    t.http
      .post('/oauth/token')
      .type('form')
      .send({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion, ...extra });

  async function expectRefused(response: Promise<{ status: number; body: Record<string, unknown> }>, reason: string) {
    const res = await response;
    expect({ status: res.status, error: res.body.error }).toEqual({ status: 401, error: 'invalid_client' });
    const event = await lastAuditEvent('client.assertion_refused');
    expect(event.details).toMatchObject({ method: 'private_key_jwt', reason, issuer: expect.any(String) });
    return event;
  }

  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    t = await startTestApp({ env: { PUBLIC_URL: issuer, ALLOW_INSECURE_ISSUERS_FOR_TESTS: 'true' } });
    await t.tessera.app.listen({ port, host: '127.0.0.1' });
    const created = await t.http.post('/v1/tenants').set(admin()).send({ name: 'pkjwt' }).expect(201);
    const key = await t.http.post(`/v1/tenants/${created.body.id}/api-keys`).set(admin()).send({}).expect(201);
    tenant = { id: created.body.id, key: { 'x-api-key': key.body.key } };

    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    es256 = { privateKey: pair.privateKey, kid: 'billing-2026' };
    inline = (
      await createClient({
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [{ ...pair.publicKey.export({ format: 'jwk' }), kid: es256.kid }] },
      }).expect(201)
    ).body;
    keyHost = await startWorkloadIssuer();
    published = (await createClient({ tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: keyHost.jwksUri }).expect(201)).body;
    secretClient = (await createClient({}).expect(201)).body;
  });

  afterAll(async () => {
    await t?.close();
    await keyHost?.close();
  });

  describe('creating clients', () => {
    it('answers no secret for a private_key_jwt client, and its keys as stored (kid, pinned alg, public members only)', async () => {
      expect(inline).not.toHaveProperty('clientSecret');
      expect(inline).toMatchObject({
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [{ kty: 'EC', crv: 'P-256', kid: es256.kid, alg: 'ES256', use: 'sig' }] },
      });
      expect(published).toMatchObject({ tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: keyHost.jwksUri });
      expect(secretClient).toMatchObject({ tokenEndpointAuthMethod: 'client_secret_basic', clientSecret: expect.stringMatching(/^tcs_/) });
      const listed = (await t.http.get(`/v1/tenants/${tenant.id}/clients`).set(tenant.key).expect(200)).body;
      expect(listed.find((c: { clientId: string }) => c.clientId === inline.clientId).jwks.keys[0]).not.toHaveProperty('d');
    });

    it('refuses private key material, HS keys, both or neither key source, and an http jwksUri off loopback, with 400', async () => {
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      for (const [body, message] of [
        [
          { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [rsa.privateKey.export({ format: 'jwk' })] } },
          /private key material/,
        ],
        [{ tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, /private key material/],
        [
          { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), alg: 'HS256' }] } },
          /asymmetric/,
        ],
        [{ tokenEndpointAuthMethod: 'private_key_jwt' }, /exactly one/],
        [{ tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'http://example.com/jwks' }, /https/],
        [{ jwks: { keys: [rsa.publicKey.export({ format: 'jwk' })] } }, /only for/],
        [{ tokenEndpointAuthMethod: 'client_secret_jwt' }, /tokenEndpointAuthMethod/],
      ] as const) {
        const res = await createClient(body).expect(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
        expect(JSON.stringify(res.body)).toMatch(message);
        expect(JSON.stringify(res.body)).not.toContain('"d"');
      }
    });

    it('lists private_key_jwt and its signing algorithms in discovery (never HS* or none)', async () => {
      const metadata = (await t.http.get('/.well-known/oauth-authorization-server').expect(200)).body;
      expect(metadata.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
      expect(metadata.introspection_endpoint_auth_methods_supported).toContain('private_key_jwt');
      expect(metadata.revocation_endpoint_auth_methods_supported).toContain('private_key_jwt');
      expect(metadata.token_endpoint_auth_signing_alg_values_supported).toEqual(
        expect.arrayContaining(['RS256', 'PS256', 'ES256', 'EdDSA']),
      );
      expect(metadata.token_endpoint_auth_signing_alg_values_supported.some((a: string) => a.startsWith('HS') || a === 'none')).toBe(false);
    });
  });

  describe('openid-client v6 with PrivateKeyJwt', () => {
    it('client_credentials, introspection and revocation with an inline ES256 key', async () => {
      const key = await cryptoKey(es256.privateKey, { name: 'ECDSA', namedCurve: 'P-256' });
      const config = await oidc.discovery(
        new URL(issuer),
        inline.clientId,
        undefined,
        oidc.PrivateKeyJwt({ key, kid: es256.kid }),
        insecure,
      );
      const tokens = await oidc.clientCredentialsGrant(config, { scope: 'orders:read' });
      expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'orders:read' });
      const introspected = await oidc.tokenIntrospection(config, tokens.access_token);
      expect(introspected).toMatchObject({ active: true, client_id: inline.clientId, sub: inline.clientId, tenant_id: tenant.id });
      await oidc.tokenRevocation(config, tokens.access_token);
      expect(await oidc.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
      const accepted = await lastAuditEvent('client.assertion_accepted');
      expect(accepted).toMatchObject({ tenantId: tenant.id, subject: inline.clientId });
      expect(accepted.details).toMatchObject({
        method: 'private_key_jwt',
        usage: 'client_assertion',
        issuer: inline.clientId,
        subject: inline.clientId,
      });
    });

    it('client_credentials with an RS256 key published at the client’s jwksUri (no alg in the request: the key pins it)', async () => {
      const key = await cryptoKey(keyHost.privateKey, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' });
      const config = await oidc.discovery(
        new URL(issuer),
        published.clientId,
        undefined,
        oidc.PrivateKeyJwt({ key, kid: keyHost.kid }),
        insecure,
      );
      const tokens = await oidc.clientCredentialsGrant(config);
      expect(tokens.scope).toBe('orders:read orders:write');
      expect(await oidc.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true, client_id: published.clientId });
      await oidc.tokenRevocation(config, tokens.access_token);
      // A key the client no longer publishes stops working once its JWKS is read again.
      keyHost.rotate();
      const stale = await oidc.discovery(
        new URL(issuer),
        published.clientId,
        undefined,
        oidc.PrivateKeyJwt({ key, kid: 'not-published' }),
        insecure,
      );
      await expect(oidc.clientCredentialsGrant(stale)).rejects.toMatchObject({ error: 'invalid_client', status: 401 });
    });

    it('leaves client_secret clients unchanged, and a private_key_jwt client cannot use a secret', async () => {
      const config = await oidc.discovery(
        new URL(issuer),
        secretClient.clientId,
        secretClient.clientSecret,
        oidc.ClientSecretBasic(),
        insecure,
      );
      expect((await oidc.clientCredentialsGrant(config)).access_token).toEqual(expect.any(String));
      const res = await t.http
        .post('/oauth/token')
        .type('form')
        .send({ grant_type: 'client_credentials', client_id: inline.clientId, client_secret: 'anything' });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    });
  });

  describe('refused assertions: 401 invalid_client and an audit event each', () => {
    it('accepts the hand-made assertion itself, at the issuer or the token endpoint as aud', async () => {
      await token(assertion()).expect(200);
      await token(assertion({ aud: `${issuer}/oauth/token` })).expect(200);
      await token(assertion({ aud: ['https://elsewhere', issuer] }), { client_id: inline.clientId }).expect(200);
    });

    it('wrong audience', async () => {
      const event = await expectRefused(token(assertion({ aud: 'https://another-server.example' })), 'INVALID_AUDIENCE');
      expect(event).toMatchObject({ tenantId: tenant.id, subject: inline.clientId });
    });

    it('replayed jti, also across endpoints', async () => {
      const once = assertion();
      await token(once).expect(200);
      await expectRefused(token(once), 'REPLAYED_JTI');
      await expectRefused(
        t.http.post('/oauth/introspect').type('form').send({ token: 'x', client_assertion_type: ASSERTION_TYPE, client_assertion: once }),
        'REPLAYED_JTI',
      );
    });

    it('missing jti', async () => {
      await expectRefused(token(assertion({ jti: undefined })), 'MISSING_JTI');
    });

    it('expired, and valid for too long', async () => {
      const now = Math.floor(Date.now() / 1000);
      await expectRefused(token(assertion({ iat: now - 600, exp: now - 300 })), 'TOKEN_EXPIRED');
      await expectRefused(token(assertion({ exp: now + 3600 })), 'LIFETIME_TOO_LONG');
    });

    it('HS256 assertion and alg none', async () => {
      await expectRefused(
        token(assertion({}, { alg: 'HS256' }, 'a-shared-secret-long-enough-for-hs256-0123456789')),
        'ALGORITHM_NOT_ALLOWED',
      );
      await expectRefused(token(assertion({}, { alg: 'none' }, '')), 'ALGORITHM_NOT_ALLOWED');
      // The key's pinned algorithm, not another one its type could verify.
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      await expectRefused(token(assertion({}, { alg: 'RS256' }, rsa.privateKey)), 'ALGORITHM_NOT_ALLOWED');
    });

    it('a key missing from the client’s keys, and a signature by another key', async () => {
      await expectRefused(token(assertion({}, { kid: 'not-registered' })), 'UNKNOWN_KEY');
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      await expectRefused(token(assertion({}, {}, other.privateKey)), 'INVALID_SIGNATURE');
    });

    it('iss and sub that differ, a client_id that is another client’s, and a secret client’s id', async () => {
      await expectRefused(token(assertion({ sub: 'someone-else' })), 'SUBJECT_MISMATCH');
      await expectRefused(token(assertion(), { client_id: secretClient.clientId }), 'CLIENT_ID_MISMATCH');
      await expectRefused(token(assertion({ iss: secretClient.clientId, sub: secretClient.clientId })), 'UNKNOWN_CLIENT');
    });

    it('an assertion together with a secret is invalid_request', async () => {
      const res = await token(assertion(), { client_secret: secretClient.clientSecret });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    });

    it('a deleted client is refused on the next request', async () => {
      const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const doomed = (
        await createClient({
          tokenEndpointAuthMethod: 'private_key_jwt',
          jwks: { keys: [pair.publicKey.export({ format: 'jwk' })] },
        }).expect(201)
      ).body;
      const sign = () => {
        const now = Math.floor(Date.now() / 1000);
        return signTestJwt(
          { alg: 'ES256' },
          { iss: doomed.clientId, sub: doomed.clientId, aud: issuer, iat: now, exp: now + 60, jti: randomUUID() },
          pair.privateKey,
        );
      };
      await token(sign()).expect(200); // a single key: kid may be left out
      await t.http.delete(`/v1/tenants/${tenant.id}/clients/${doomed.clientId}`).set(tenant.key).expect(204);
      await expectRefused(token(sign()), 'UNKNOWN_CLIENT');
    });
  });
});
