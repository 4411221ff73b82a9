import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import { startTestApp, TestApp } from './utils/test-app';
import { signTestJwt } from './utils/test-jwt';

const PUBLIC_URL = 'https://tessera.test';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * SSRF (docs/adr/0020): a tenant chooses URLs Tessera fetches — a client's jwksUri, a trusted
 * issuer's jwksUri or its issuer (OpenID discovery). A name that resolves to an internal
 * address must be refused when Tessera connects, with no connection made. `localhost`
 * stands for any tenant-controlled name pointing inside (or re-pointed after registration):
 * it passes registration, which judges only literal addresses, and resolves to 127.0.0.1,
 * where a plain TCP listener counts every connection that reaches it. Loopback is not
 * exempt here (ALLOW_INSECURE_ISSUERS_FOR_TESTS off), so the URLs are https like in production.
 */
describe('outbound fetches refuse internal addresses (e2e)', () => {
  let t: TestApp;
  let listener: Server;
  let port: number;
  let connections = 0;
  const sockets = new Set<Socket>();
  let tenant: { id: string; key: { 'x-api-key': string } };
  const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

  const createClient = (body: Record<string, unknown>) =>
    t.http
      .post(`/v1/tenants/${tenant.id}/clients`)
      .set(tenant.key)
      .send({ name: 'svc', scopes: ['orders:read'], ...body });
  const trust = (body: Record<string, unknown>) => t.http.post(`/v1/tenants/${tenant.id}/trusted-issuers`).set(tenant.key).send(body);
  const token = (clientAssertion: string) =>
    t.http
      .post('/oauth/token')
      .type('form')
      .send({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion });

  function assertion(iss: string, sub: string): string {
    const now = Math.floor(Date.now() / 1000);
    return signTestJwt(
      { alg: 'ES256', kid: 'k1' },
      { iss, sub, aud: PUBLIC_URL, iat: now, exp: now + 60, jti: randomUUID() },
      signer,
      'ES256',
    );
  }

  async function lastRefusal() {
    return (
      await t.http
        .get('/v1/audit-events')
        .query({ type: 'client.assertion_refused', limit: 1 })
        .set({ 'x-api-key': t.adminKey })
        .expect(200)
    ).body[0];
  }

  beforeAll(async () => {
    listener = createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as AddressInfo).port;
    t = await startTestApp({ env: { PUBLIC_URL, ALLOW_INSECURE_ISSUERS_FOR_TESTS: 'false' } });
    const created = await t.http.post('/v1/tenants').set({ 'x-api-key': t.adminKey }).send({ name: 'ssrf' }).expect(201);
    const key = await t.http.post(`/v1/tenants/${created.body.id}/api-keys`).set({ 'x-api-key': t.adminKey }).send({}).expect(201);
    tenant = { id: created.body.id, key: { 'x-api-key': key.body.key } };
  });

  afterAll(async () => {
    await t?.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => listener?.close(() => resolve()));
  });

  it('refuses a private_key_jwt client whose jwksUri resolves to loopback: 401 invalid_client, no connection made', async () => {
    const client = (
      await createClient({ tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: `https://localhost:${port}/jwks` }).expect(201)
    ).body;
    const before = connections;
    const res = await token(assertion(client.clientId, client.clientId));
    expect({ status: res.status, error: res.body.error }).toEqual({ status: 401, error: 'invalid_client' });
    expect((await lastRefusal()).details).toMatchObject({ method: 'private_key_jwt', reason: 'JWKS_UNAVAILABLE', issuer: client.clientId });
    expect(connections).toBe(before);
    expect(t.logs()).toMatch(/localhost \(127\.0\.0\.1\) is loopback, which outbound fetches do not reach/);
  });

  it('refuses a trusted issuer whose jwksUri, or whose discovery document, resolves to loopback: 401 invalid_client, no connection made', async () => {
    const client = (await createClient({}).expect(201)).body;
    const withJwksUri = `https://localhost:${port}/with-jwks-uri`;
    const discovered = `https://localhost:${port}/discovered`;
    await trust({
      issuer: withJwksUri,
      jwksUri: `https://localhost:${port}/issuer-jwks`,
      audience: PUBLIC_URL,
      subject: 'workload',
      clientId: client.clientId,
    }).expect(201);
    await trust({ issuer: discovered, audience: PUBLIC_URL, subject: 'workload', clientId: client.clientId }).expect(201);
    const before = connections;
    for (const issuer of [withJwksUri, discovered]) {
      const res = await token(assertion(issuer, 'workload'));
      expect({ status: res.status, error: res.body.error }).toEqual({ status: 401, error: 'invalid_client' });
      expect((await lastRefusal()).details).toMatchObject({ method: 'trusted_issuer', reason: 'JWKS_UNAVAILABLE', issuer });
    }
    expect(connections).toBe(before);
  });

  it('refuses at registration, with 400, a URL whose host is a literal internal address (IPv4, IPv6, IPv4-mapped)', async () => {
    const hosts = [
      '169.254.169.254',
      '10.0.0.1',
      '127.0.0.1',
      '100.64.0.1',
      '[::1]',
      '[fd00::1]',
      '[fe80::1]',
      '[::ffff:169.254.169.254]',
      '[::ffff:7f00:1]',
      '0.0.0.0',
    ];
    const client = (await createClient({}).expect(201)).body;
    for (const host of hosts) {
      const url = `https://${host}/jwks`;
      const asClient = await createClient({ tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: url }).expect(400);
      expect(asClient.body).toMatchObject({
        statusCode: 400,
        code: 'VALIDATION_FAILED',
        message: expect.stringMatching(/^jwksUri must not point at .*OUTBOUND_ALLOWED_NETWORKS/),
      });
      const asJwksUri = await trust({
        issuer: 'https://issuer.example',
        jwksUri: url,
        audience: PUBLIC_URL,
        subject: 'w',
        clientId: client.clientId,
      }).expect(400);
      expect(asJwksUri.body.message).toMatch(/^jwksUri must not point at/);
      const asDiscovery = await trust({ issuer: `https://${host}`, audience: PUBLIC_URL, subject: 'w', clientId: client.clientId }).expect(
        400,
      );
      expect(asDiscovery.body.message).toMatch(/^issuer must not point at/);
    }
    // An issuer that is never fetched (its keys come from a jwksUri) may be any URL.
    await trust({
      issuer: 'https://10.0.0.1',
      jwksUri: 'https://keys.example/jwks',
      audience: PUBLIC_URL,
      subject: 'w',
      clientId: client.clientId,
    }).expect(201);
    expect(connections).toBe(0);
  });
});
