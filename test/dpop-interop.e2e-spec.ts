import { randomBytes } from 'node:crypto';
import { decodeJwt, exportJWK, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { freePort } from './utils/process';
import { startTestApp, TestApp } from './utils/test-app';
import { createTenant } from './utils/verification-fixtures';

/**
 * openid-client v6's DPoP support as the client, against the real app on a real port: a
 * DPoP-bound client_credentials token, the rotation of a bound refresh family, and protected
 * calls to the guard (/v1/me) — with and without server nonces (the library's own retry on
 * use_dpop_nonce). The refresh family is first issued by POST /v1/tenants/:id/tokens with a proof
 * of the same key built by hand with jose, as a tenant backend would forward its user's proof.
 */
describe.each([
  { nonces: false, name: 'without nonces' },
  { nonces: true, name: 'with DPOP_NONCE_REQUIRED' },
])('DPoP with openid-client (e2e, $name)', ({ nonces }) => {
  let t: TestApp;
  let issuer: string;
  let tenant: { id: string; apiKey: Record<string, string> };
  let client: { clientId: string; clientSecret: string };
  const insecure = { execute: [oidc.allowInsecureRequests] };

  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    t = await startTestApp({ env: { PUBLIC_URL: issuer, REFRESH_REUSE_GRACE_SECONDS: '0', DPOP_NONCE_REQUIRED: String(nonces) } });
    await t.tessera.app.listen({ port, host: '127.0.0.1' });
    tenant = await createTenant(t, 'interop');
    client = (
      await t.http
        .post(`/v1/tenants/${tenant.id}/clients`)
        .set(tenant.apiKey)
        .send({ name: 'worker', scopes: ['orders:read'] })
        .expect(201)
    ).body;
  });
  afterAll(() => t?.close());

  const configuration = () => oidc.discovery(new URL(issuer), client.clientId, client.clientSecret, oidc.ClientSecretBasic(), insecure);

  it('discovery says which proof algorithms the server takes', async () => {
    const config = await configuration();
    expect(config.serverMetadata().dpop_signing_alg_values_supported).toContain('ES256');
  });

  it('client_credentials: a DPoP-bound token, then protected calls with a fresh proof each', async () => {
    const config = await configuration();
    const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'orders:read' }, { DPoP });
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: expect.any(String) });
    for (let i = 0; i < 3; i++) {
      const res = await oidc.fetchProtectedResource(config, tokens.access_token, new URL(`${issuer}/v1/me`), 'GET', undefined, undefined, {
        DPoP,
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ sub: client.clientId });
    }
    // Another key (a thief's handle) is refused.
    const thief = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const stolen = await oidc
      .fetchProtectedResource(config, tokens.access_token, new URL(`${issuer}/v1/me`), 'GET', undefined, undefined, { DPoP: thief })
      .then(
        (r) => r.status,
        (e: { status?: number; cause?: Response }) => e.status ?? e.cause?.status,
      );
    expect(stolen).toBe(401);
  });

  it('rotates a bound refresh family with refreshTokenGrant and the same key', async () => {
    const config = await configuration();
    const keyPair = await oidc.randomDPoPKeyPair('ES256');
    const DPoP = oidc.getDPoPHandle(config, keyPair);
    const url = `${issuer}/v1/tenants/${tenant.id}/tokens`;
    const handProof = async (nonce?: string) =>
      new SignJWT({
        htm: 'POST',
        htu: url,
        jti: randomBytes(12).toString('base64url'),
        iat: Math.floor(Date.now() / 1000),
        ...(nonce ? { nonce } : {}),
      })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: (await exportJWK(keyPair.publicKey)) as never })
        .sign(keyPair.privateKey);
    const headers = { ...tenant.apiKey, 'content-type': 'application/json' };
    let res = await fetch(url, {
      method: 'POST',
      headers: { ...headers, dpop: await handProof() },
      body: JSON.stringify({ sub: 'user-9' }),
    });
    if (nonces) {
      expect(res.status).toBe(401);
      res = await fetch(url, {
        method: 'POST',
        headers: { ...headers, dpop: await handProof(res.headers.get('dpop-nonce')!) },
        body: JSON.stringify({ sub: 'user-9' }),
      });
    }
    expect(res.status).toBe(201);
    const issued = (await res.json()) as { refresh_token: string; token_type: string };
    expect(issued.token_type).toBe('DPoP');

    const refreshed = await oidc.refreshTokenGrant(config, issued.refresh_token, undefined, { DPoP });
    expect(refreshed.token_type).toBe('dpop');
    const me = await oidc.fetchProtectedResource(config, refreshed.access_token, new URL(`${issuer}/v1/me`), 'GET', undefined, undefined, {
      DPoP,
    });
    expect(await me.json()).toMatchObject({ sub: 'user-9' });
    // The family is bound: the library with another key is refused, and the token still works with the right one.
    const other = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!, undefined, { DPoP: other })).rejects.toMatchObject({
      error: 'invalid_dpop_proof',
      status: 400,
    });
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!, undefined, { DPoP })).resolves.toMatchObject({
      token_type: 'dpop',
    });
  });
});
