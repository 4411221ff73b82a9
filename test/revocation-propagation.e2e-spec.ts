import { randomBytes } from 'node:crypto';
import { CredentialChanges } from '../src/auth/credential-changes.service';
import { Clock } from '../src/common/clock';
import { TokenVerifierService } from '../src/verification/token-verifier.service';
import { startTestApp, TestApp } from './utils/test-app';
import { ampersandClaims, registerKey, TestRegisteredKey } from './utils/verification-fixtures';

/**
 * Revocation of keys and credentials (docs/adr/0017-revocation-propagation.md): two replicas,
 * A and B, on one database. Every change is made on A.
 *
 * - On A it holds on the very next request, with A's notifications dropped and A's clock
 *   stopped: only the synchronous invalidation in the request that made the change can do it.
 * - On B it holds within a second, with B's clock stopped so that no cache entry there can
 *   expire: only NOTIFY can tell B. The delays are printed.
 */
const admin = (t: TestApp) => ({ 'x-api-key': t.adminKey });

interface Subject {
  tenantId: string;
  apiKeyId: string;
  apiKey: { 'x-api-key': string };
  client: { id: string; secret: string };
  key: TestRegisteredKey;
  /** A token signed with the registered key, valid for ten minutes. */
  token: string;
}

type Probe = (t: TestApp, s: Subject) => Promise<boolean>;

/** Each probe answers true when the replica refuses, false when it still accepts. */
const probes: Record<string, Probe> = {
  /** GET /v1/tenants/:id with the tenant's own API key. */
  apiKey: async (t, s) => {
    const res = await t.http.get(`/v1/tenants/${s.tenantId}`).set(s.apiKey);
    if (res.status === 200) return false;
    expect([401, 403]).toContain(res.status);
    return true;
  },
  /** client_credentials with the tenant's client. */
  client: async (t, s) => {
    const basic = Buffer.from(`${s.client.id}:${s.client.secret}`).toString('base64');
    const res = await t.http.post('/oauth/token').set('authorization', `Basic ${basic}`).type('form').send('grant_type=client_credentials');
    if (res.status === 200) return false;
    expect(res.status).toBe(401);
    return true;
  },
  /** RFC 7662 introspection of the registered key's token, with the tenant's API key. */
  introspection: async (t, s) => {
    const res = await t.http
      .post('/oauth/introspect')
      .set(s.apiKey)
      .type('form')
      .send(new URLSearchParams({ token: s.token }).toString());
    expect(res.status).toBe(200);
    return res.body.active === false;
  },
  /** The verifier forward-auth, introspection and jwt-bearer share, for the registered key's token. */
  verifier: async (t, s) =>
    t.tessera.app
      .get(TokenVerifierService)
      .verify(s.token)
      .then(
        () => false,
        () => true,
      ),
};

interface Kind {
  name: string;
  change(a: TestApp, s: Subject): Promise<unknown>;
  /** What must be refused afterwards. */
  refused: Probe[];
  /** What must still be accepted (the change is no broader than it says). */
  kept: Probe[];
}

const KINDS: Kind[] = [
  {
    name: 'registered key deactivated',
    change: (a, s) => a.http.patch(`/v1/tenants/${s.tenantId}/jwt-keys/${s.key.kid}`).set(s.apiKey).send({ active: false }).expect(200),
    refused: [probes.introspection, probes.verifier],
    kept: [probes.apiKey, probes.client],
  },
  {
    name: 'registered key deleted',
    change: (a, s) => a.http.delete(`/v1/tenants/${s.tenantId}/jwt-keys/${s.key.kid}`).set(s.apiKey).expect(204),
    refused: [probes.introspection, probes.verifier],
    kept: [probes.apiKey, probes.client],
  },
  {
    name: 'client deleted',
    change: (a, s) => a.http.delete(`/v1/tenants/${s.tenantId}/clients/${s.client.id}`).set(s.apiKey).expect(204),
    refused: [probes.client],
    kept: [probes.apiKey, probes.introspection],
  },
  {
    name: 'API key deleted',
    change: (a, s) => a.http.delete(`/v1/tenants/${s.tenantId}/api-keys/${s.apiKeyId}`).set(admin(a)).expect(204),
    refused: [probes.apiKey],
    kept: [probes.client, probes.verifier],
  },
  {
    name: 'tenant disabled',
    change: (a, s) => a.http.patch(`/v1/tenants/${s.tenantId}`).set(admin(a)).send({ disabled: true }).expect(200),
    refused: [probes.apiKey, probes.client, probes.verifier],
    kept: [],
  },
  {
    name: 'tenant deleted',
    change: (a, s) => a.http.delete(`/v1/tenants/${s.tenantId}`).set(admin(a)).expect(204),
    refused: [probes.apiKey, probes.client, probes.verifier],
    kept: [],
  },
];

describe('revocation of keys and credentials across two replicas (e2e)', () => {
  let a: TestApp;
  let b: TestApp;
  const delays: string[] = [];
  // Replicas of one deployment share the database, the key-encryption key and the public URL.
  const shared = { KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'), PUBLIC_URL: 'https://tessera.test' };

  beforeAll(async () => {
    a = await startTestApp({ env: shared });
    b = await startTestApp({ databaseUrl: a.databaseUrl, env: shared });
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    if (delays.length > 0) console.log(`revocation reached replica B after:\n${delays.join('\n')}`);
    await b?.close();
    await a?.close();
  });

  let counter = 0;
  async function subject(): Promise<Subject> {
    const tenant = await a.http
      .post('/v1/tenants')
      .set(admin(a))
      .send({ name: `propagation-${++counter}` })
      .expect(201);
    const tenantId = tenant.body.id as string;
    const apiKey = await a.http.post(`/v1/tenants/${tenantId}/api-keys`).set(admin(a)).send({}).expect(201);
    const key = { 'x-api-key': apiKey.body.key as string };
    const client = await a.http
      .post(`/v1/tenants/${tenantId}/clients`)
      .set(key)
      .send({ name: 'worker', scopes: ['read'] })
      .expect(201);
    const registered = await registerKey(a, { id: tenantId, apiKey: key });
    return {
      tenantId,
      apiKeyId: apiKey.body.id,
      apiKey: key,
      client: { id: client.body.clientId, secret: client.body.clientSecret },
      key: registered,
      token: registered.sign(ampersandClaims()),
    };
  }

  /** Every probe accepted on `t`, which also puts the credentials and the key in its caches. */
  async function expectAccepted(t: TestApp, s: Subject, list: Probe[]): Promise<void> {
    for (const probe of list) expect(await probe(t, s)).toBe(false);
  }

  async function allRefused(t: TestApp, s: Subject, list: Probe[]): Promise<boolean> {
    for (const probe of list) if (!(await probe(t, s))) return false;
    return true;
  }

  /** Stops the replica's clock now: no cache entry there can expire any more. */
  const stopClock = (t: TestApp) => jest.spyOn(t.tessera.app.get(Clock), 'now').mockReturnValue(new Date());

  describe.each(KINDS)('$name', (kind) => {
    it('is refused on the next request on the replica that made the change', async () => {
      const s = await subject();
      await expectAccepted(a, s, [...kind.refused, ...kind.kept]);
      stopClock(a);
      // Drop A's own notifications: the change must not depend on hearing its own NOTIFY.
      const heard = jest.spyOn(a.tessera.app.get(CredentialChanges), 'received').mockImplementation(() => undefined);
      await kind.change(a, s);
      for (const probe of kind.refused) expect(await probe(a, s)).toBe(true);
      await expectAccepted(a, s, kind.kept);
      // The trigger did notify (A ignored it): the same notification is what B acts on.
      await waitUntil(() => heard.mock.calls.length > 0, 2000, 'A’s own notification');
    });

    it('is refused on another replica within 1 s, told by NOTIFY (its cache entries cannot expire)', async () => {
      const s = await subject();
      await expectAccepted(b, s, [...kind.refused, ...kind.kept]);
      stopClock(b);
      await kind.change(a, s);
      const changedAt = Date.now();
      let refusedAfterMs: number | undefined;
      for (let i = 0; i < 400 && Date.now() - changedAt <= 2000; i++) {
        if (await allRefused(b, s, kind.refused)) {
          refusedAfterMs = Date.now() - changedAt;
          break;
        }
        await sleep(5);
      }
      delays.push(`  ${kind.name}: ${refusedAfterMs === undefined ? 'not within 2000' : refusedAfterMs} ms`);
      expect(refusedAfterMs).toBeDefined();
      expect(refusedAfterMs).toBeLessThanOrEqual(1000);
      await expectAccepted(b, s, kind.kept);
    });
  });

  it('a change written in SQL by hand, past the API, reaches both replicas within 1 s', async () => {
    const s = await subject();
    await expectAccepted(a, s, [probes.apiKey, probes.introspection]);
    await expectAccepted(b, s, [probes.apiKey, probes.introspection]);
    stopClock(a);
    stopClock(b);
    await a.sql(`UPDATE registered_keys SET is_active = false WHERE kid = $1`, [s.key.kid]);
    const changedAt = Date.now();
    for (const t of [a, b]) await waitUntilAsync(() => probes.introspection(t, s), 1000, 'the key switched off in SQL to be refused');
    delays.push(`  registered key switched off in SQL: ${Date.now() - changedAt} ms (both replicas)`);
    await a.sql(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, [s.apiKeyId]);
    for (const t of [a, b]) await waitUntilAsync(() => probes.apiKey(t, s), 1000, 'the API key revoked in SQL to be refused');
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(predicate: () => boolean, ms: number, what: string): Promise<void> {
  await waitUntilAsync(async () => predicate(), ms, what);
}

/** Polls (bounded in count and time) until `predicate` holds. */
async function waitUntilAsync(predicate: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const started = Date.now();
  for (let i = 0; i < 400 && Date.now() - started <= ms; i++) {
    if (await predicate()) return;
    await sleep(5);
  }
  throw new Error(`${what}: not within ${ms} ms`);
}
