import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { startTestApp, TestApp } from './utils/test-app';
import { signTestJwt } from './utils/test-jwt';
import { ampersandClaims, createTenant, TestTenant } from './utils/verification-fixtures';

/**
 * Issue 11.6: a tenant cannot make another party's public key its own
 * (docs/adr/0012-registered-key-proof.md). Tokens are checked through POST /oauth/introspect
 * with each tenant's X-Api-Key: a token of another tenant answers exactly {"active": false}.
 */
const PROOF_TYP = 'tessera-key-proof+jwt';
const now = () => Math.floor(Date.now() / 1000);
const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }) as string;
const thumbprint = (k: KeyObject) => calculateJwkThumbprint(k.export({ format: 'jwk' }) as never, 'sha256');

interface Party {
  publicKey: KeyObject;
  privateKey: KeyObject;
  kid: string;
  pem: string;
  /** A token its backend signs (fresh iat and jti every call). */
  token(sub?: string): string;
  /** A registration proof for `tenantId`, signed with this party's private key. */
  proof(tenantId: string, payload?: Record<string, unknown>, header?: Record<string, unknown>): string;
}

async function party(): Promise<Party> {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = await thumbprint(pair.publicKey);
  let n = 0;
  return {
    ...pair,
    kid,
    pem: spki(pair.publicKey),
    token: (sub = 'user-b') =>
      signTestJwt({ alg: 'RS256', typ: 'JWT', kid }, ampersandClaims({ sub, jti: `t-${n++}-${Date.now()}` }), pair.privateKey),
    proof: (tenantId, payload = {}, header = {}) =>
      signTestJwt({ alg: 'RS256', typ: PROOF_TYP, ...header }, { tenant_id: tenantId, jkt: kid, iat: now(), ...payload }, pair.privateKey),
  };
}

describe('registered keys: proof of possession (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const register = (tenant: TestTenant, body: object) => t.http.post(`/v1/tenants/${tenant.id}/jwt-keys`).set(tenant.apiKey).send(body);
  const introspect = async (tenant: TestTenant, token: string) =>
    (await t.http.post('/oauth/introspect').set(tenant.apiKey).send({ token }).expect(200)).body;

  it('lets the key holder take its key back from a tenant that registered it first without a proof: B is never locked out, B’s tokens never verify as A’s', async () => {
    const a = await createTenant(t, 'pop-claimer');
    const b = await createTenant(t, 'pop-holder');
    const key = await party();

    // A registers B's public key (public keys are public) before B does, the Ampersand way.
    const claimed = await register(a, { label: 'not mine', algorithm: 'RS256', publicKeyPem: key.pem }).expect(201);
    expect(claimed.body).toMatchObject({ kid: key.kid, proven: false, active: true });

    // B proves possession: the registration succeeds (before the fix: 409, for ever).
    const proven = await register(b, { label: 'ours', algorithm: 'RS256', publicKeyPem: key.pem, proof: key.proof(b.id) }).expect(201);
    expect(proven.body).toEqual({
      kid: key.kid,
      label: 'ours',
      algorithm: 'RS256',
      active: true,
      proven: true,
      fingerprint: claimed.body.fingerprint,
      createdAt: expect.any(String),
    });

    // From the next request on, B's tokens are B's and never A's (before the fix: active for A).
    const token = key.token();
    expect(await introspect(a, token)).toEqual({ active: false });
    expect(await introspect(b, token)).toMatchObject({ active: true, tenant_id: b.id, sub: 'user-b' });

    // A's unproven record is gone from everything A can use, and A was told why in its audit trail.
    await t.http.get(`/v1/tenants/${a.id}/jwt-keys/${key.kid}`).set(a.apiKey).expect(404);
    expect((await t.http.get(`/v1/tenants/${a.id}/jwt-keys`).set(a.apiKey).expect(200)).body).toEqual([]);
    await t.http.patch(`/v1/tenants/${a.id}/jwt-keys/${key.kid}`).set(a.apiKey).send({ active: true }).expect(404);
    expect((await t.http.get(`/v1/tenants/${a.id}/jwks.json`).expect(200)).body).toEqual({ keys: [] });
    expect((await t.http.get(`/v1/tenants/${b.id}/jwks.json`).expect(200)).body.keys.map((k: { kid: string }) => k.kid)).toEqual([key.kid]);
    const trail = (await t.http.get(`/v1/tenants/${a.id}/audit-events`).set({ 'x-api-key': t.adminKey }).expect(200)).body;
    const displaced = (trail.items ?? trail).find((e: { type: string }) => e.type === 'registered_key.displaced');
    expect(displaced).toMatchObject({ subject: key.kid, actor: 'system' });
    expect(JSON.stringify(displaced)).not.toContain(b.id);

    // A cannot get it back: not unproven, not with B's proof (bound to B's tenant), not with its own key's proof.
    const again = await register(a, { label: 'again', algorithm: 'RS256', publicKeyPem: key.pem }).expect(409);
    expect(again.body.message).toMatch(/taken over by a registration that proved possession/);
    const replayed = await register(a, { label: 'replay', algorithm: 'RS256', publicKeyPem: key.pem, proof: key.proof(b.id) }).expect(400);
    expect(replayed.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/proof tenant_id must be the tenant/),
    });
    const other = await party();
    const forged = signTestJwt({ alg: 'RS256', typ: PROOF_TYP }, { tenant_id: a.id, jkt: key.kid, iat: now() }, other.privateKey);
    expect(
      (await register(a, { label: 'forged', algorithm: 'RS256', publicKeyPem: key.pem, proof: forged }).expect(400)).body.message,
    ).toMatch(/proof signature does not verify with this key/);
    expect(await introspect(a, key.token())).toEqual({ active: false });

    const rows = await t.sql<{ tenant_id: string; proven: boolean; displaced: boolean; deleted: boolean; is_active: boolean }>(
      `SELECT tenant_id, proven, displaced_at IS NOT NULL AS displaced, deleted_at IS NOT NULL AS deleted, is_active FROM registered_keys WHERE kid = $1 ORDER BY created_at`,
      [key.kid],
    );
    expect(rows).toEqual([
      { tenant_id: a.id, proven: false, displaced: true, deleted: true, is_active: false },
      { tenant_id: b.id, proven: true, displaced: false, deleted: false, is_active: true },
    ]);
  });

  it('refuses an unproven registration of a key another tenant proved, even after that tenant deleted it', async () => {
    const a = await createTenant(t, 'pop-late');
    const b = await createTenant(t, 'pop-first');
    const key = await party();
    await register(b, { label: 'ours', algorithm: 'RS256', publicKeyPem: key.pem, proof: key.proof(b.id) }).expect(201);

    const refused = await register(a, { label: 'mine?', algorithm: 'RS256', publicKeyPem: key.pem }).expect(409);
    expect(refused.body).toEqual({
      statusCode: 409,
      error: 'conflict',
      code: 'CONFLICT',
      message: `This public key (kid ${key.kid}) is already registered with a proof of possession of its private key; it cannot be registered again, generate a new key pair`,
    });
    expect(await introspect(a, key.token())).toEqual({ active: false });

    await t.http.delete(`/v1/tenants/${b.id}/jwt-keys/${key.kid}`).set(b.apiKey).expect(204);
    await register(a, { label: 'mine now?', algorithm: 'RS256', publicKeyPem: key.pem }).expect(409);
    // Even the holder proving it again: a deleted key stays revoked for good.
    await register(b, { label: 'back', algorithm: 'RS256', publicKeyPem: key.pem, proof: key.proof(b.id) }).expect(409);
    expect(await introspect(a, key.token())).toEqual({ active: false });
    expect(await introspect(b, key.token())).toEqual({ active: false });
  });

  it('keeps unproven registrations first come, first served, and says how to claim the key', async () => {
    const a = await createTenant(t, 'pop-unproven-a');
    const c = await createTenant(t, 'pop-unproven-c');
    const key = await party();
    await register(a, { label: 'one', algorithm: 'RS256', publicKeyPem: key.pem }).expect(201);
    const second = await register(c, { label: 'two', algorithm: 'RS256', publicKeyPem: key.pem }).expect(409);
    expect(second.body.message).toMatch(/already registered without a proof\. If you hold its private key, register it with a "proof"/);
    // Same tenant again: 409 as the design says, with or without a proof.
    await register(a, { label: 'dup', algorithm: 'RS256', publicKeyPem: key.pem }).expect(409);
    expect(
      (await register(a, { label: 'dup', algorithm: 'RS256', publicKeyPem: key.pem, proof: key.proof(a.id) }).expect(409)).body.message,
    ).toMatch(/already registered/);
    // A deleted unproven registration still blocks other unproven ones, but never a proven one.
    await t.http.delete(`/v1/tenants/${a.id}/jwt-keys/${key.kid}`).set(a.apiKey).expect(204);
    await register(c, { label: 'two', algorithm: 'RS256', publicKeyPem: key.pem }).expect(409);
    await register(c, { label: 'two', algorithm: 'RS256', publicKeyPem: key.pem, proof: key.proof(c.id) }).expect(201);
    expect(await introspect(c, key.token())).toMatchObject({ active: true, tenant_id: c.id });
  });

  it('refuses a proof that is not for this tenant, this key, this algorithm or now, with 400 saying what is wrong', async () => {
    const b = await createTenant(t, 'pop-bad-proofs');
    const key = await party();
    const other = await party();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const cases: Array<[string, RegExp]> = [
      ['not a jws', /proof must be a compact JWS/],
      [key.proof(b.id, { tenant_id: '00000000-0000-4000-8000-000000000000' }), /proof tenant_id must be the tenant/],
      [key.proof(b.id, { jkt: other.kid }), /proof jkt must be the RFC 7638 SHA-256 thumbprint of the key \(/],
      [key.proof(b.id, { iat: now() - 320 }), /proof iat must be within 300 s of now/],
      [key.proof(b.id, { iat: now() + 320 }), /proof iat must be within 300 s of now/],
      [key.proof(b.id, { iat: String(now()) }), /compact JWS|NumericDate/],
      [key.proof(b.id, { sub: 'x' }), /proof payload must be exactly/],
      [key.proof(b.id, {}, { typ: 'JWT' }), /proof header typ must be "tessera-key-proof\+jwt"/],
      [key.proof(b.id, {}, { alg: 'PS256' }), /signed with the key's algorithm, RS256/],
      [key.proof(b.id, {}, { kid: other.kid }), /kid, when present, must be the key thumbprint/],
      [key.proof(b.id, {}, { jwk: { kty: 'RSA' } }), /proof must be a compact JWS/],
      [key.proof(b.id, {}, { x5t: 'abc' }), /proof header may hold only alg, typ and kid/],
      [other.proof(b.id, { jkt: key.kid }), /proof signature does not verify with this key/],
      [
        signTestJwt({ alg: 'ES256', typ: PROOF_TYP }, { tenant_id: b.id, jkt: key.kid, iat: now() }, ec.privateKey),
        /key's algorithm, RS256/,
      ],
      [signTestJwt({ alg: 'none', typ: PROOF_TYP }, { tenant_id: b.id, jkt: key.kid, iat: now() }, ''), /proof must be a compact JWS/],
      // A token signed by the key is not a proof.
      [key.token(), /proof header typ must be/],
    ];
    for (const [proof, message] of cases) {
      const res = await register(b, { label: 'k', algorithm: 'RS256', publicKeyPem: key.pem, proof });
      expect({ proof, status: res.status, body: res.body }).toEqual({
        proof,
        status: 400,
        body: { statusCode: 400, error: 'bad_request', code: 'VALIDATION_FAILED', message: expect.stringMatching(message) },
      });
    }
    await register(b, { label: 'k', algorithm: 'RS256', publicKeyPem: key.pem, proof: '' }).expect(400);
    await register(b, { label: 'k', algorithm: 'RS256', publicKeyPem: key.pem, proof: 'a'.repeat(4097) }).expect(400);
    expect(await t.sql('SELECT kid FROM registered_keys WHERE tenant_id = $1', [b.id])).toEqual([]);
    // A proof with a kid header naming the key, and one with ES256/EdDSA keys, are fine.
    await register(b, { label: 'k', algorithm: 'RS256', publicKeyPem: key.pem, proof: key.proof(b.id, {}, { kid: key.kid }) }).expect(201);
    const ed = generateKeyPairSync('ed25519');
    const edKid = await thumbprint(ed.publicKey);
    const edProof = signTestJwt({ alg: 'EdDSA', typ: PROOF_TYP }, { tenant_id: b.id, jkt: edKid, iat: now() }, ed.privateKey);
    await register(b, { label: 'ed', algorithm: 'EdDSA', jwk: ed.publicKey.export({ format: 'jwk' }), proof: edProof }).expect(201);
  });

  it('lets the proven registration win however it races an unproven one for the same key', async () => {
    const b = await createTenant(t, 'pop-race-holder');
    const claimers = await Promise.all([1, 2, 3].map((i) => createTenant(t, `pop-race-claimer-${i}`)));
    for (let round = 0; round < 5; round++) {
      const key = await party();
      const answers = await Promise.all([
        ...claimers.map((c) => register(c, { label: 'claim', algorithm: 'RS256', publicKeyPem: key.pem })),
        register(b, { label: 'ours', algorithm: 'RS256', publicKeyPem: key.pem, proof: key.proof(b.id) }),
      ]);
      expect(answers[claimers.length].status).toBe(201);
      for (const a of answers.slice(0, claimers.length)) expect([201, 409]).toContain(a.status);
      expect(await introspect(b, key.token())).toMatchObject({ active: true, tenant_id: b.id });
      for (const c of claimers) expect(await introspect(c, key.token())).toEqual({ active: false });
      const live = await t.sql<{ tenant_id: string }>('SELECT tenant_id FROM registered_keys WHERE kid = $1 AND deleted_at IS NULL', [
        key.kid,
      ]);
      expect(live).toEqual([{ tenant_id: b.id }]);
    }
  });
});
