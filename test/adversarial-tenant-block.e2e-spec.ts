import { DenylistService } from '../src/revocation/denylist.service';
import { startTestApp, TestApp } from './utils/test-app';
import { createTenant, issueToken } from './utils/verification-fixtures';

/**
 * Adversarial pass (after issues 11 and 17): ADR 0017 says disabling or deleting a tenant holds on the next request on
 * the replica that made the change. Tessera's own access tokens are checked against the in-memory denylist only, and the
 * denylist learnt of a blocked tenant from its own NOTIFY alone: right after `PATCH {disabled: true}` (or DELETE) the
 * same replica still accepted the tenant's tokens at forward-auth and /v1/me until the notification came back (seen in
 * 3 of 8 tries against a production build). Here the replica's denylist notifications are dropped, so only the
 * change made in the request itself can refuse them.
 */
describe('adversarial: a disabled or deleted tenant’s own tokens stop on the next request, here (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const forwardAuth = (token: string) =>
    t.http.get('/v1/auth/verify').set({ authorization: `Bearer ${token}`, 'x-original-method': 'GET', 'x-original-uri': '/x' });

  it.each([
    ['disabled', (id: string) => t.http.patch(`/v1/tenants/${id}`).set('x-api-key', t.adminKey).send({ disabled: true }).expect(200)],
    ['deleted', (id: string) => t.http.delete(`/v1/tenants/${id}`).set('x-api-key', t.adminKey).expect(204)],
  ])('%s', async (_name, change) => {
    const tenant = await createTenant(t, `adv-block-${_name}`);
    const { access_token: token } = await issueToken(t, tenant);
    expect((await forwardAuth(token)).status).toBe(200);
    const denylist = t.tessera.app.get(DenylistService);

    const heard = jest.spyOn(denylist as any, 'onNotification').mockImplementation(() => undefined);
    try {
      await change(tenant.id);
      expect((await forwardAuth(token)).status).toBe(401);
      expect((await t.http.get('/v1/me').set('authorization', `Bearer ${token}`)).status).toBe(401);
    } finally {
      heard.mockRestore();
    }
  });

  it('a re-enabled tenant’s tokens work again on the next request', async () => {
    const tenant = await createTenant(t, 'adv-block-reenable');
    const { access_token: token } = await issueToken(t, tenant);
    await t.http.patch(`/v1/tenants/${tenant.id}`).set('x-api-key', t.adminKey).send({ disabled: true }).expect(200);
    await t.http.patch(`/v1/tenants/${tenant.id}`).set('x-api-key', t.adminKey).send({ disabled: false }).expect(200);
    expect((await forwardAuth(token)).status).toBe(200);
  });
});
