import { createHash, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { RegisteredKeysService } from '../src/registered-keys/registered-keys.service';
import { waitFor } from './utils/process';
import { startTestApp, TestApp } from './utils/test-app';
import { ampersandClaims, createTenant, registerKey } from './utils/verification-fixtures';

/**
 * Issue 17.2: an RSA key with a huge public exponent (or modulus) makes every signature check
 * a CPU sink. Only moduli of 2048 to 4096 bits and odd exponents from 3 to 2^32 - 1 register,
 * and stored keys that fail are switched off at start (docs/adr/0012-registered-key-proof.md).
 */
const b64u = (n: bigint) =>
  Buffer.from(n.toString(16).padStart(Math.ceil(n.toString(16).length / 2) * 2, '0'), 'hex').toString('base64url');
const odd = (bits: number) => BigInt(`0x${randomBytes(bits / 8).toString('hex')}`) | (1n << BigInt(bits - 1)) | 1n;

/** A 2048-bit RSA public key with the exponent replaced: a structurally valid key nobody can sign for. */
function rsaJwk(e: bigint, modulusBits = 2048): Record<string, string> {
  const n =
    modulusBits === 2048
      ? (generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }).n as string)
      : b64u(odd(modulusBits));
  return { kty: 'RSA', n, e: b64u(e) };
}

describe('registered RSA keys: modulus and exponent bounds (e2e)', () => {
  let t: TestApp;
  const admin = () => ({ 'x-api-key': t.adminKey });
  // A restart on the same database needs the same key-encryption key.
  const shared = { KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex') };

  beforeAll(async () => {
    t = await startTestApp({ env: shared });
  });
  afterAll(() => t.close());

  const register = (tenantId: string, body: object) => t.http.post(`/v1/tenants/${tenantId}/jwt-keys`).set(admin()).send(body);

  it('refuses a 2048-bit key with a huge exponent, an even one, one past 2^32 - 1 and moduli past 4096 bits, saying why', async () => {
    const tenant = await createTenant(t, 'rsa-bounds');
    const huge = odd(2048);
    const cases: Array<[Record<string, string>, RegExp]> = [
      [rsaJwk(huge), /RSA public exponent must be odd and from 3 to 2\^32 - 1 \(65537 is usual\); this one is a 2048-bit number/],
      [rsaJwk(65536n), /RSA public exponent must be odd .*; this one is 65536/],
      [rsaJwk(1n), /RSA public exponent must be odd .*; this one is 1/],
      [rsaJwk(2n ** 32n + 1n), /RSA public exponent must be odd .*; this one is a 33-bit number/],
      [rsaJwk(65537n, 4104), /RSA keys may have at most 4096 bits; this one has 4104/],
      [rsaJwk(65537n, 8192), /RSA keys may have at most 4096 bits; this one has 8192/],
    ];
    for (const [jwk, message] of cases) {
      for (const body of [
        { label: 'x', algorithm: 'RS256', jwk },
        {
          label: 'x',
          algorithm: 'PS256',
          publicKeyPem: createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }),
        },
      ]) {
        const res = await register(tenant.id, body);
        expect({ status: res.status, body: res.body }).toEqual({
          status: 400,
          body: { statusCode: 400, error: 'bad_request', code: 'VALIDATION_FAILED', message: expect.stringMatching(message) },
        });
        expect(res.text).not.toContain(jwk.n.slice(0, 40));
      }
    }
    expect(await t.sql('SELECT kid FROM registered_keys WHERE tenant_id = $1', [tenant.id])).toEqual([]);

    // Within the bounds: e = 65537, 3 and 2^32 - 1 (odd), 4096 bits.
    for (const jwk of [rsaJwk(65537n), rsaJwk(3n), rsaJwk(2n ** 32n - 1n), rsaJwk(65537n, 4096)])
      await register(tenant.id, { label: 'ok', algorithm: 'RS256', jwk }).expect(201);
  });

  it('switches off at start a stored key that fails the bounds, with a log line naming no key material; it never verifies meanwhile', async () => {
    const tenant = await createTenant(t, 'rsa-stored');
    const good = await registerKey(t, tenant);
    const jwk = rsaJwk(odd(2048));
    const kid = await calculateJwkThumbprint(jwk as never, 'sha256');
    const der = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
    const fingerprint = createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
    // As an older version (or someone with database access) would have stored it.
    await t.sql(
      `INSERT INTO registered_keys (kid, tenant_id, label, algorithm, public_jwk, fingerprint) VALUES ($1, $2, 'old', 'RS256', $3, $4)`,
      [kid, tenant.id, JSON.stringify(jwk), fingerprint],
    );
    // Before any restart, verification already refuses to use it.
    expect(await t.tessera.app.get(RegisteredKeysService).findActiveKey(kid)).toBeUndefined();

    const restarted = await startTestApp({ databaseUrl: t.databaseUrl, env: shared });
    try {
      const [row] = await restarted.sql<{ is_active: boolean }>('SELECT is_active FROM registered_keys WHERE kid = $1', [kid]);
      expect(row.is_active).toBe(false);
      // Two apps in one process share Nest's static logger: the line may land in either capture.
      const logs = () => t.logs() + restarted.logs();
      const disabledLine = () =>
        logs()
          .split('\n')
          .find((l) => l.includes('Disabled a registered key that fails the key rules'));
      await waitFor(() => disabledLine() !== undefined, 5000, 'the start-up log line');
      const line = disabledLine();
      expect(line).toBeDefined();
      expect(JSON.parse(line!)).toMatchObject({
        kid,
        tenantId: tenant.id,
        reason: expect.stringMatching(/RSA public exponent must be odd.*2048-bit number/),
      });
      expect(logs()).not.toContain(jwk.n.slice(0, 40));
      expect(logs()).not.toContain(jwk.e.slice(0, 40));

      const jwks = await restarted.http.get(`/v1/tenants/${tenant.id}/jwks.json`).expect(200);
      expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toEqual([good.kid]);
      const res = await restarted.http
        .patch(`/v1/tenants/${tenant.id}/jwt-keys/${kid}`)
        .set({ 'x-api-key': restarted.adminKey })
        .send({ active: true })
        .expect(400);
      expect(res.body.message).toMatch(/this key cannot be switched on: RSA public exponent must be odd/);
      const events = (
        await restarted.http.get(`/v1/tenants/${tenant.id}/audit-events`).set({ 'x-api-key': restarted.adminKey }).expect(200)
      ).body;
      expect((events.items ?? events).map((e: { type: string; subject: string }) => `${e.type} ${e.subject}`)).toContain(
        `registered_key.disabled ${kid}`,
      );
      // The compliant key of the same tenant is untouched.
      const introspected = await restarted.http
        .post('/oauth/introspect')
        .set(tenant.apiKey)
        .send({ token: good.sign(ampersandClaims()) })
        .expect(200);
      expect(introspected.body).toMatchObject({ active: true, tenant_id: tenant.id });
    } finally {
      await restarted.close();
    }
  });
});
