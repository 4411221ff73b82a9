import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Clock } from '../src/common/clock';
import { startTestApp, TestApp } from './utils/test-app';
import { signTestJwt } from './utils/test-jwt';
import { startWorkloadIssuer, WorkloadIssuer } from './utils/workload-issuer';

const PUBLIC_URL = 'https://tessera.test';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const K8S_ISSUER = 'https://kubernetes.default.svc.cluster.local';

interface Tenant {
  id: string;
  key: { 'x-api-key': string };
}

/**
 * Federated workload identities (issue 15): a tenant trusts an external issuer — here a local
 * Kubernetes-style API server (JWKS at /openid/v1/jwks, registered with its jwksUri) and a
 * GitHub-Actions-style issuer (found through OpenID discovery) — and a token of that issuer,
 * presented as client_assertion or as a jwt-bearer assertion, authenticates as the entry's client.
 * Every refusal is 401 invalid_client and leaves an audit event with issuer, subject and reason.
 */
describe('trusted issuers (e2e)', () => {
  let t: TestApp;
  let k8s: WorkloadIssuer;
  let github: WorkloadIssuer;
  let tenant: Tenant;
  let otherTenant: Tenant;
  let worker: { clientId: string };
  let deployer: { clientId: string };
  let otherClient: { clientId: string };
  let k8sEntry: { id: string };
  const admin = () => ({ 'x-api-key': t.adminKey });

  async function newTenant(name: string): Promise<Tenant> {
    const created = await t.http.post('/v1/tenants').set(admin()).send({ name }).expect(201);
    const key = await t.http.post(`/v1/tenants/${created.body.id}/api-keys`).set(admin()).send({}).expect(201);
    return { id: created.body.id, key: { 'x-api-key': key.body.key } };
  }

  const newClient = async (tn: Tenant, scopes: string[]) =>
    (await t.http.post(`/v1/tenants/${tn.id}/clients`).set(tn.key).send({ name: 'w', scopes }).expect(201)).body;

  const trust = (tn: Tenant, body: Record<string, unknown>) => t.http.post(`/v1/tenants/${tn.id}/trusted-issuers`).set(tn.key).send(body);

  const clientCredentials = (assertion: string, extra: Record<string, string> = {}) =>
    t.http
      .post('/oauth/token')
      .type('form')
      .send({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion, ...extra });

  async function lastAuditEvent(type: string) {
    const res = await t.http.get('/v1/audit-events').query({ type, limit: 1 }).set(admin()).expect(200);
    return res.body[0];
  }

  /** 401 invalid_client, and the newest refusal in the audit trail names the reason, issuer and subject. */
  async function expectRefused(
    response: Promise<{ status: number; body: Record<string, unknown> }>,
    reason: string,
    expected: { issuer?: string; subject?: string; tenantId?: string | null } = {},
  ) {
    const res = await response;
    expect({ status: res.status, error: res.body.error }).toEqual({ status: 401, error: 'invalid_client' });
    expect(JSON.stringify(res.body)).not.toMatch(/eyJ/);
    const event = await lastAuditEvent('client.assertion_refused');
    expect(event.details).toMatchObject({ method: 'trusted_issuer', reason });
    if ('issuer' in expected) expect(event.details.issuer).toBe(expected.issuer);
    if ('subject' in expected) expect(event.details.subject).toBe(expected.subject);
    if ('tenantId' in expected) expect(event.tenantId).toBe(expected.tenantId);
    return res;
  }

  beforeAll(async () => {
    k8s = await startWorkloadIssuer({ issuer: K8S_ISSUER });
    github = await startWorkloadIssuer();
    t = await startTestApp({ env: { PUBLIC_URL, ALLOW_INSECURE_ISSUERS_FOR_TESTS: 'true' } });
    tenant = await newTenant('platform');
    otherTenant = await newTenant('other');
    worker = await newClient(tenant, ['orders:read', 'orders:write']);
    deployer = await newClient(tenant, ['deploy', 'read']);
    otherClient = await newClient(otherTenant, ['x']);
    k8sEntry = (
      await trust(tenant, {
        issuer: K8S_ISSUER,
        jwksUri: k8s.jwksUri,
        audience: PUBLIC_URL,
        subject: 'system:serviceaccount:billing:*',
        claims: { 'kubernetes.io/namespace': 'billing' },
        clientId: worker.clientId,
        scopes: ['orders:read'],
      }).expect(201)
    ).body;
    await trust(tenant, {
      issuer: github.issuer,
      audience: 'tessera',
      subject: 'repo:acme/api:ref:refs/heads/main',
      claims: { repository: 'acme/api', job_workflow_ref: 'acme/api/.github/workflows/deploy.yml@refs/heads/main' },
      clientId: deployer.clientId,
    }).expect(201);
  });

  afterAll(async () => {
    await t?.close();
    await k8s?.close();
    await github?.close();
  });

  afterEach(() => jest.restoreAllMocks());

  describe('POST/GET/DELETE /v1/tenants/:id/trusted-issuers', () => {
    it('creates, lists and reads entries, and refuses what cannot be trusted with 400', async () => {
      const list = await t.http.get(`/v1/tenants/${tenant.id}/trusted-issuers`).set(tenant.key).expect(200);
      expect(list.body.map((e: { issuer: string }) => e.issuer)).toEqual([K8S_ISSUER, github.issuer]);
      const one = await t.http.get(`/v1/tenants/${tenant.id}/trusted-issuers/${k8sEntry.id}`).set(tenant.key).expect(200);
      expect(one.body).toEqual({
        id: k8sEntry.id,
        issuer: K8S_ISSUER,
        jwksUri: k8s.jwksUri,
        audience: PUBLIC_URL,
        subject: 'system:serviceaccount:billing:*',
        claims: { 'kubernetes.io/namespace': 'billing' },
        clientId: worker.clientId,
        scopes: ['orders:read'],
        createdAt: expect.any(String),
      });

      const base = { issuer: 'https://issuer.example.com', audience: 'a', subject: 's', clientId: worker.clientId };
      for (const [body, message] of [
        [{ ...base, issuer: 'http://issuer.example.com' }, /https/],
        [{ ...base, jwksUri: 'http://10.0.0.1/jwks' }, /https/],
        [{ ...base, subject: '*' }, /prefix/],
        [{ ...base, subject: 'system:*:x' }, /last character/],
        [{ ...base, claims: { a: { b: 1 } } }, /string/],
        [{ ...base, clientId: otherClient.clientId }, /clientId/],
        [{ ...base, scopes: ['orders:delete'] }, /subset/],
        [{ ...base, unknown: 1 }, /unknown|should not exist/],
      ] as const) {
        const res = await trust(tenant, body).expect(400);
        expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
        expect(JSON.stringify(res.body)).toMatch(message);
      }
      await trust(tenant, {
        ...base,
        issuer: K8S_ISSUER,
        jwksUri: k8s.jwksUri,
        audience: PUBLIC_URL,
        subject: 'system:serviceaccount:billing:*',
        claims: { 'kubernetes.io/namespace': 'billing' },
        scopes: ['orders:read'],
      }).expect(409);
      await t.http.get(`/v1/tenants/${tenant.id}/trusted-issuers`).set(otherTenant.key).expect(403);
      await t.http.get(`/v1/tenants/${tenant.id}/trusted-issuers/${randomUUID()}`).set(tenant.key).expect(404);
    });

    it('refuses http:// issuers on loopback when ALLOW_INSECURE_ISSUERS_FOR_TESTS is off', async () => {
      const strict = await startTestApp({ env: { PUBLIC_URL } });
      try {
        const tn = (await strict.http.post('/v1/tenants').set({ 'x-api-key': strict.adminKey }).send({ name: 's' }).expect(201)).body;
        const c = (
          await strict.http
            .post(`/v1/tenants/${tn.id}/clients`)
            .set({ 'x-api-key': strict.adminKey })
            .send({ name: 'w', scopes: [] })
            .expect(201)
        ).body;
        const res = await strict.http
          .post(`/v1/tenants/${tn.id}/trusted-issuers`)
          .set({ 'x-api-key': strict.adminKey })
          .send({ issuer: github.issuer, audience: 'a', subject: 's', clientId: c.clientId })
          .expect(400);
        expect(res.body.message).toMatch(/ALLOW_INSECURE_ISSUERS_FOR_TESTS/);
      } finally {
        await strict.close();
      }
    });

    it('is in the OpenAPI document', async () => {
      const doc = (await t.http.get('/docs-json').expect(200)).body;
      expect(Object.keys(doc.paths['/v1/tenants/{tenantId}/trusted-issuers']).sort()).toEqual(['get', 'post']);
      expect(Object.keys(doc.paths['/v1/tenants/{tenantId}/trusted-issuers/{id}']).sort()).toEqual(['delete', 'get']);
    });
  });

  describe('a Kubernetes service-account token', () => {
    it('authenticates as the entry’s client at /oauth/token, narrowed to the entry’s scopes, and is audited', async () => {
      const assertion = k8s.kubernetesToken({ namespace: 'billing', serviceAccount: 'invoicer', audience: PUBLIC_URL });
      const res = await clientCredentials(assertion).expect(200);
      expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'orders:read' });
      const claims = JSON.parse(Buffer.from(res.body.access_token.split('.')[1], 'base64url').toString());
      expect(claims).toMatchObject({ sub: worker.clientId, client_id: worker.clientId, tenant_id: tenant.id, scope: 'orders:read' });
      const event = await lastAuditEvent('client.assertion_accepted');
      expect(event).toMatchObject({ tenantId: tenant.id, subject: worker.clientId });
      expect(event.details).toMatchObject({
        method: 'trusted_issuer',
        usage: 'client_assertion',
        issuer: K8S_ISSUER,
        subject: 'system:serviceaccount:billing:invoicer',
        trustedIssuerIds: [k8sEntry.id],
      });
      // The entry's scopes bound what may be asked for.
      const wider = await clientCredentials(
        k8s.kubernetesToken({ namespace: 'billing', serviceAccount: 'invoicer', audience: PUBLIC_URL }),
        { scope: 'orders:write' },
      );
      expect(wider.body.error).toBe('invalid_scope');
    });

    it('is accepted as a jwt-bearer assertion too, as that client, living no longer than the token', async () => {
      const nowSec = Math.floor(Date.now() / 1000);
      const assertion = k8s.sign(
        { aud: PUBLIC_URL, sub: 'system:serviceaccount:billing:invoicer', 'kubernetes.io': { namespace: 'billing' } },
        { nowSec, lifetimeSec: 120 },
      );
      const res = await t.http.post('/oauth/token').type('form').send({ grant_type: JWT_BEARER, assertion }).expect(200);
      expect(res.body.scope).toBe('orders:read');
      expect(res.body.expires_in).toBeLessThanOrEqual(120);
      const claims = JSON.parse(Buffer.from(res.body.access_token.split('.')[1], 'base64url').toString());
      expect(claims).toMatchObject({ sub: worker.clientId, client_id: worker.clientId });
      expect((await lastAuditEvent('client.assertion_accepted')).details.usage).toBe('jwt_bearer');
      // The same token once more, by either route: single use.
      await expectRefused(t.http.post('/oauth/token').type('form').send({ grant_type: JWT_BEARER, assertion }), 'REPLAYED_JTI');
      await expectRefused(clientCredentials(assertion), 'REPLAYED_JTI');
    });

    it('authenticates /oauth/introspect and /oauth/revoke for the client’s tenant', async () => {
      const issued = await clientCredentials(
        k8s.kubernetesToken({ namespace: 'billing', serviceAccount: 'invoicer', audience: PUBLIC_URL }),
      ).expect(200);
      const form = (token: string) => ({
        token,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: k8s.kubernetesToken({ namespace: 'billing', serviceAccount: 'invoicer', audience: PUBLIC_URL }),
      });
      const active = await t.http.post('/oauth/introspect').type('form').send(form(issued.body.access_token)).expect(200);
      expect(active.body).toMatchObject({ active: true, client_id: worker.clientId });
      await t.http.post('/oauth/revoke').type('form').send(form(issued.body.access_token)).expect(200);
      expect((await t.http.post('/oauth/introspect').type('form').send(form(issued.body.access_token)).expect(200)).body).toEqual({
        active: false,
      });
    });
  });

  describe('a GitHub Actions OIDC token (issuer found through discovery)', () => {
    it('authenticates as the deployer with its scopes', async () => {
      const assertion = github.githubToken({ repository: 'acme/api', ref: 'refs/heads/main', audience: 'tessera' });
      const res = await clientCredentials(assertion, { client_id: deployer.clientId }).expect(200);
      expect(res.body.scope).toBe('deploy read');
      expect(github.discoveryFetches()).toBeGreaterThanOrEqual(1);
      expect((await lastAuditEvent('client.assertion_accepted')).details).toMatchObject({
        issuer: github.issuer,
        subject: 'repo:acme/api:ref:refs/heads/main',
      });
    });

    it('refuses another branch (subject) and another workflow (claim)', async () => {
      await expectRefused(
        clientCredentials(github.githubToken({ repository: 'acme/api', ref: 'refs/heads/feature', audience: 'tessera' })),
        'SUBJECT_MISMATCH',
        {
          issuer: github.issuer,
          subject: 'repo:acme/api:ref:refs/heads/feature',
        },
      );
      await expectRefused(
        clientCredentials(
          github.githubToken({ repository: 'acme/api', ref: 'refs/heads/main', audience: 'tessera', workflow: 'evil.yml' }),
        ),
        'CLAIM_MISMATCH',
      );
    });
  });

  describe('refusals: 401 invalid_client and an audit event each', () => {
    const k8sClaims = (extra: Record<string, unknown> = {}) => ({
      aud: PUBLIC_URL,
      sub: 'system:serviceaccount:billing:invoicer',
      'kubernetes.io': { namespace: 'billing' },
      ...extra,
    });

    it('wrong audience', async () => {
      await expectRefused(
        clientCredentials(
          k8s.kubernetesToken({ namespace: 'billing', serviceAccount: 'invoicer', audience: 'https://kubernetes.default.svc' }),
        ),
        'INVALID_AUDIENCE',
        {
          issuer: K8S_ISSUER,
          subject: 'system:serviceaccount:billing:invoicer',
        },
      );
    });

    it('expired token', async () => {
      const past = Math.floor(Date.now() / 1000) - 7200;
      await expectRefused(clientCredentials(k8s.sign(k8sClaims(), { nowSec: past, lifetimeSec: 600 })), 'TOKEN_EXPIRED');
    });

    it('subject or claim not matching', async () => {
      await expectRefused(
        clientCredentials(k8s.kubernetesToken({ namespace: 'payments', serviceAccount: 'invoicer', audience: PUBLIC_URL })),
        'SUBJECT_MISMATCH',
      );
      await expectRefused(clientCredentials(k8s.sign(k8sClaims({ 'kubernetes.io': { namespace: 'payments' } }))), 'CLAIM_MISMATCH');
    });

    it('unknown issuer', async () => {
      const stranger = await startWorkloadIssuer();
      try {
        await expectRefused(clientCredentials(stranger.sign(k8sClaims())), 'UNKNOWN_ISSUER', { issuer: stranger.issuer, tenantId: null });
      } finally {
        await stranger.close();
      }
    });

    it('issuer registered by another tenant', async () => {
      await expectRefused(
        clientCredentials(k8s.kubernetesToken({ namespace: 'billing', serviceAccount: 'invoicer', audience: PUBLIC_URL }), {
          client_id: otherClient.clientId,
        }),
        'ISSUER_NOT_TRUSTED_FOR_CLIENT',
        {
          tenantId: otherTenant.id,
        },
      );
    });

    it('HS256 assertion, alg none', async () => {
      const now = Math.floor(Date.now() / 1000);
      const payload = { iss: K8S_ISSUER, ...k8sClaims(), iat: now, exp: now + 300, jti: randomUUID() };
      await expectRefused(
        clientCredentials(signTestJwt({ alg: 'HS256', kid: k8s.kid }, payload, 'a-shared-secret-that-is-long-enough-for-hs256')),
        'ALGORITHM_NOT_ALLOWED',
        { issuer: K8S_ISSUER },
      );
      await expectRefused(clientCredentials(signTestJwt({ alg: 'none', kid: k8s.kid }, payload, '', 'none')), 'ALGORITHM_NOT_ALLOWED', {
        issuer: K8S_ISSUER,
        subject: 'system:serviceaccount:billing:invoicer',
      });
    });

    it('key missing from the JWKS, and a signature by another key under a listed kid', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      await expectRefused(clientCredentials(k8s.sign(k8sClaims(), { header: { kid: 'not-in-the-jwks' }, key: privateKey })), 'UNKNOWN_KEY');
      await expectRefused(clientCredentials(k8s.sign(k8sClaims(), { key: privateKey })), 'INVALID_SIGNATURE');
    });

    it('replayed jti', async () => {
      const assertion = k8s.kubernetesToken({ namespace: 'billing', serviceAccount: 'invoicer', audience: PUBLIC_URL });
      await clientCredentials(assertion).expect(200);
      await expectRefused(clientCredentials(assertion), 'REPLAYED_JTI');
    });

    it('a token without jti, and an access token (typ at+jwt) as assertion', async () => {
      await expectRefused(clientCredentials(k8s.sign(k8sClaims({ jti: undefined }))), 'MISSING_JTI');
      await expectRefused(clientCredentials(k8s.sign(k8sClaims(), { header: { typ: 'at+jwt' } })), 'INVALID_TOKEN_TYPE');
    });

    it('concurrent presentations of one token: exactly one is accepted', async () => {
      const assertion = k8s.kubernetesToken({ namespace: 'billing', serviceAccount: 'invoicer', audience: PUBLIC_URL });
      const answers = await Promise.all(Array.from({ length: 8 }, () => clientCredentials(assertion)));
      expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401, 401, 401, 401, 401, 401]);
    });
  });

  describe('changes take effect on the next request', () => {
    it('deleting the entry, then the client, refuses their tokens at once', async () => {
      const ephemeral = await newClient(tenant, ['orders:read']);
      const entry = (
        await trust(tenant, {
          issuer: K8S_ISSUER,
          jwksUri: k8s.jwksUri,
          audience: 'ephemeral',
          subject: 'system:serviceaccount:tmp:job',
          clientId: ephemeral.clientId,
        }).expect(201)
      ).body;
      const token = () => k8s.kubernetesToken({ namespace: 'tmp', serviceAccount: 'job', audience: 'ephemeral' });
      await clientCredentials(token()).expect(200);
      await t.http.delete(`/v1/tenants/${tenant.id}/trusted-issuers/${entry.id}`).set(tenant.key).expect(204);
      await expectRefused(clientCredentials(token()), 'INVALID_AUDIENCE');
      await t.http.get(`/v1/tenants/${tenant.id}/trusted-issuers/${entry.id}`).set(tenant.key).expect(404);

      const again = (
        await trust(tenant, {
          issuer: K8S_ISSUER,
          jwksUri: k8s.jwksUri,
          audience: 'ephemeral',
          subject: 'system:serviceaccount:tmp:job',
          clientId: ephemeral.clientId,
        }).expect(201)
      ).body;
      await clientCredentials(token()).expect(200);
      await t.http.delete(`/v1/tenants/${tenant.id}/clients/${ephemeral.clientId}`).set(tenant.key).expect(204);
      await expectRefused(clientCredentials(token()), 'INVALID_AUDIENCE');
      expect(again.id).toBeDefined();
    });
  });

  describe('JWKS outage', () => {
    it('serves the cached keys for up to 15 minutes after their fetch, then refuses with invalid_client (never a 5xx), and recovers', async () => {
      const clock = t.tessera.app.get(Clock);
      const start = Date.now();
      const at = (minutes: number) => jest.spyOn(clock, 'now').mockReturnValue(new Date(start + minutes * 60_000));
      const token = (minutes: number) =>
        k8s.kubernetesToken({
          namespace: 'billing',
          serviceAccount: 'invoicer',
          audience: PUBLIC_URL,
          nowSec: Math.floor((start + minutes * 60_000) / 1000),
        });

      // A fresh fetch now, so that the keys' age is known.
      at(20);
      await clientCredentials(token(20)).expect(200);
      k8s.setDown(true);
      try {
        const fetchesBefore = k8s.jwksFetches();
        at(26); // due for a refresh; the fetch fails; the keys from minute 20 still answer
        await clientCredentials(token(26)).expect(200);
        expect(k8s.jwksFetches()).toBeGreaterThan(fetchesBefore);
        at(34);
        await clientCredentials(token(34)).expect(200);
        at(36); // 16 minutes after the last successful fetch
        const refused = await expectRefused(clientCredentials(token(36)), 'JWKS_UNAVAILABLE');
        expect(refused.body.error_description).toMatch(/try again later/);
      } finally {
        k8s.setDown(false);
      }
      at(37); // past the retry interval: the next request fetches again and succeeds
      await clientCredentials(token(37)).expect(200);
    });
  });
});
