import { TokenError } from '@tessera/nest-guard';
import { Clock } from '../src/common/clock';
import { DenylistService } from '../src/revocation/denylist.service';
import { RevocationService } from '../src/revocation/revocation.service';
import { TokenVerifierService } from '../src/verification/token-verifier.service';
import { startTestApp, TestApp } from './utils/test-app';
import { ampersandClaims, createTenant, issueToken, registerKey, TestTenant } from './utils/verification-fixtures';

/**
 * Issue 11.5 and the jti bullet of issue 17: stored revocation state is bounded per tenant,
 * in the database (so the bound holds across concurrent requests and replicas), and every
 * replica's memory follows the table.
 */
const MAX_SUBJECTS = 5;
const MAX_JTIS = 5;

describe('revocation limits (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: { REVOCATION_MAX_SUBJECTS_PER_TENANT: String(MAX_SUBJECTS), REVOCATION_MAX_JTIS_PER_TENANT: String(MAX_JTIS) },
    });
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => t.close());

  const revokeSubject = (tenant: TestTenant, sub: string) =>
    t.http.post(`/v1/tenants/${tenant.id}/subjects/${encodeURIComponent(sub)}/revoke`).set(tenant.apiKey);
  const revokeToken = (tenant: TestTenant, token: string) => t.http.post('/oauth/revoke').set(tenant.apiKey).send({ token });
  const introspect = async (tenant: TestTenant, token: string) =>
    (await t.http.post('/oauth/introspect').set(tenant.apiKey).send({ token }).expect(200)).body;
  const rows = async (table: string, tenant: TestTenant) =>
    Number((await t.sql<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = $1`, [tenant.id]))[0].n);

  describe('subject cut-offs', () => {
    it('coalesce to one row per (tenant, subject), keeping the latest cut-off, in the table and in memory', async () => {
      const tenant = await createTenant(t, 'limits-coalesce');
      const denylist = t.tessera.app.get(DenylistService);
      const before = denylist.stats().cutoffs;
      const start = Date.now();
      const answers: string[] = [];
      for (let i = 0; i < 3; i++) {
        jest.spyOn(t.tessera.app.get(Clock), 'now').mockReturnValue(new Date(start + i * 5000));
        answers.push((await revokeSubject(tenant, 'user-1').expect(200)).body.notBefore);
      }
      expect(new Set(answers).size).toBe(3);
      const stored = await t.sql<{ not_before: Date }>('SELECT not_before FROM subject_cutoffs WHERE tenant_id = $1', [tenant.id]);
      expect(stored.map((r) => r.not_before.toISOString())).toEqual([answers[2]]);
      expect(denylist.stats().cutoffs).toBe(before + 1);
    });

    it(`stop at REVOCATION_MAX_SUBJECTS_PER_TENANT (${MAX_SUBJECTS}) with 409 REVOCATION_LIMIT_REACHED; a known subject and other tenants still work`, async () => {
      const tenant = await createTenant(t, 'limits-subjects');
      const other = await createTenant(t, 'limits-subjects-other');
      for (let i = 0; i < MAX_SUBJECTS; i++) await revokeSubject(tenant, `user-${i}`).expect(200);
      const refused = await revokeSubject(tenant, 'one-too-many').expect(409);
      expect(refused.body).toEqual({
        statusCode: 409,
        error: 'conflict',
        code: 'REVOCATION_LIMIT_REACHED',
        message: expect.stringMatching(
          /^This tenant already holds 5 subject cut-offs still in force, the most allowed \(REVOCATION_MAX_SUBJECTS_PER_TENANT\)/,
        ),
      });
      await revokeSubject(tenant, 'user-0').expect(200); // moving a cut-off forward adds no row
      await revokeSubject(other, 'one-too-many').expect(200);
      expect(await rows('subject_cutoffs', tenant)).toBe(MAX_SUBJECTS);

      // Expired cut-offs do not count, even before the purge removes them.
      await t.sql(`UPDATE subject_cutoffs SET expires_at = now() - interval '1 second' WHERE tenant_id = $1 AND sub = 'user-4'`, [
        tenant.id,
      ]);
      await revokeSubject(tenant, 'one-too-many').expect(200);
    });

    it('hold the cap under concurrent requests, and memory holds no more than the table', async () => {
      const tenant = await createTenant(t, 'limits-subjects-race');
      const denylist = t.tessera.app.get(DenylistService);
      const before = denylist.stats().cutoffs;
      const statuses = (await Promise.all(Array.from({ length: 20 }, (_, i) => revokeSubject(tenant, `racer-${i}`))))
        .map((r) => r.status)
        .sort();
      expect(statuses).toEqual([...Array(MAX_SUBJECTS).fill(200), ...Array(20 - MAX_SUBJECTS).fill(409)]);
      expect(await rows('subject_cutoffs', tenant)).toBe(MAX_SUBJECTS);
      expect(denylist.stats().cutoffs - before).toBe(MAX_SUBJECTS);
    });
  });

  describe('revoked jtis', () => {
    it(`stop at REVOCATION_MAX_JTIS_PER_TENANT (${MAX_JTIS}): /oauth/revoke answers 409 and the token stays active, never a false 200`, async () => {
      const tenant = await createTenant(t, 'limits-jtis');
      const tokens = await Promise.all(Array.from({ length: MAX_JTIS + 1 }, () => issueToken(t, tenant)));
      for (const { access_token } of tokens.slice(0, MAX_JTIS)) await revokeToken(tenant, access_token).expect(200);
      const last = tokens[MAX_JTIS].access_token;
      const refused = await revokeToken(tenant, last).expect(409);
      expect(refused.body).toEqual({
        error: 'invalid_request',
        error_description: expect.stringMatching(
          /^This tenant already holds 5 revoked tokens still in force, the most allowed \(REVOCATION_MAX_JTIS_PER_TENANT\)/,
        ),
      });
      expect(await introspect(tenant, last)).toMatchObject({ active: true });
      await revokeToken(tenant, tokens[0].access_token).expect(200); // already revoked: no new row
      expect(await rows('revoked_jtis', tenant)).toBe(MAX_JTIS);
    });

    it('hold the cap under concurrent revocations', async () => {
      const tenant = await createTenant(t, 'limits-jtis-race');
      const tokens = await Promise.all(Array.from({ length: 12 }, () => issueToken(t, tenant)));
      const statuses = (await Promise.all(tokens.map((tk) => revokeToken(tenant, tk.access_token)))).map((r) => r.status).sort();
      expect(statuses).toEqual([...Array(MAX_JTIS).fill(200), ...Array(12 - MAX_JTIS).fill(409)]);
      expect(await rows('revoked_jtis', tenant)).toBe(MAX_JTIS);
    });

    it('bounds the jti of registered tokens to 256 characters: longer is MALFORMED_TOKEN, and a revocation of one is refused', async () => {
      const tenant = await createTenant(t, 'limits-jti-length');
      const key = await registerKey(t, tenant);
      const verifier = t.tessera.app.get(TokenVerifierService);
      const ok = key.sign(ampersandClaims({ jti: 'j'.repeat(256) }));
      const long = key.sign(ampersandClaims({ jti: 'j'.repeat(257) }));
      const huge = key.sign(ampersandClaims({ jti: 'j'.repeat(5000) }));
      await expect(verifier.verify(ok)).resolves.toMatchObject({ kind: 'registered', tenantId: tenant.id });
      for (const token of [long, huge]) {
        const error = await verifier.verify(token).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(TokenError);
        expect({ code: (error as TokenError).code, message: (error as TokenError).message }).toEqual({
          code: 'MALFORMED_TOKEN',
          message: 'Token jti must be at most 256 characters',
        });
        expect(await introspect(tenant, token)).toEqual({ active: false });
        await revokeToken(tenant, token).expect(200); // RFC 7009: an invalid token changes nothing
      }
      expect(await rows('revoked_jtis', tenant)).toBe(0);
      await revokeToken(tenant, ok).expect(200);
      expect(await introspect(tenant, ok)).toEqual({ active: false });
      await expect(
        t.tessera.app.get(RevocationService).revokeAccessToken(tenant.id, 'j'.repeat(257), new Date(Date.now() + 60_000)),
      ).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      // The database refuses a longer one too, whoever writes it.
      await expect(
        t.sql(`INSERT INTO revoked_jtis (tenant_id, jti, expires_at) VALUES ($1, repeat('x', 257), now() + interval '1 hour')`, [
          tenant.id,
        ]),
      ).rejects.toThrow(/revoked_jtis_jti_length/);
    });
  });
});
