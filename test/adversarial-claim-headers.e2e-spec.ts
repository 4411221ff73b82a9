import { startTestApp, TestApp } from './utils/test-app';
import { ampersandClaims, createTenant, registerKey, TestRegisteredKey, TestTenant } from './utils/verification-fixtures';

/**
 * Adversarial pass (after issues 11 and 17): ADR 0013 says a registered token's `client_id` never names another
 * tenant's Tessera client. HTTP strips leading and trailing spaces from a header value (RFC 9110 §5.5, OWS), so a
 * `client_id` of " tcl_<B's id>" slipped past the `tcl_` test and reached upstreams as exactly B's client id in
 * x-client-id. supertest parses the answer the way an upstream behind nginx does, so what it sees is what they see.
 */
describe('adversarial: claim headers cannot be made to say another tenant’s client id (e2e)', () => {
  let t: TestApp;
  let a: TestTenant;
  let b: TestTenant;
  let keyB: TestRegisteredKey;
  let clientA: string;

  const forwardAuth = (token: string) =>
    t.http.get('/v1/auth/verify').set({ authorization: `Bearer ${token}`, 'x-original-method': 'GET', 'x-original-uri': '/orders' });

  beforeAll(async () => {
    t = await startTestApp();
    a = await createTenant(t, 'adv-hdr-a');
    b = await createTenant(t, 'adv-hdr-b');
    keyB = await registerKey(t, b);
    clientA = (
      await t.http
        .post(`/v1/tenants/${a.id}/clients`)
        .set(a.apiKey)
        .send({ name: 'a', scopes: ['read'] })
        .expect(201)
    ).body.clientId;
  });
  afterAll(() => t.close());

  it('never hands upstreams another tenant’s client id, whatever spaces surround it', async () => {
    for (const clientId of [` ${clientA}`, `  ${clientA}`, `${clientA} `, ` ${clientA.toUpperCase()} `]) {
      const res = await forwardAuth(keyB.sign(ampersandClaims({ client_id: clientId })));
      expect(res.headers['x-client-id']?.toLowerCase()).not.toBe(clientA);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('INVALID_ISSUER');
    }
  });

  it('keeps a claim value exact in its header: surrounding spaces are encoded, not lost (two subjects never read as one)', async () => {
    const res = await forwardAuth(keyB.sign(ampersandClaims({ sub: ' alice ' })));
    expect(res.status).toBe(200);
    expect(res.headers['x-user-id']).toBe('%20alice%20');
    const plain = await forwardAuth(keyB.sign(ampersandClaims({ sub: 'alice' })));
    expect(plain.headers['x-user-id']).toBe('alice');
  });
});
