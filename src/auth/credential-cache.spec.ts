import { Clock } from '../common/clock';
import { CREDENTIAL_CACHE_MAX, CREDENTIAL_CACHE_TTL_MS, CredentialCache } from './credential-cache';
import { CredentialChanges } from './credential-changes.service';

const TENANT = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';

describe('CredentialCache', () => {
  let nowMs: number;
  let changes: CredentialChanges;
  let cache: CredentialCache;
  const loader = (tenantId = TENANT) => jest.fn(async () => ({ tenantId }));

  beforeEach(() => {
    nowMs = 1_800_000_000_000;
    changes = new CredentialChanges({ listen: jest.fn() } as never);
    cache = new CredentialCache({ now: () => new Date(nowMs) } as Clock, changes);
  });

  it('reuses a found credential for the TTL, never a missing one, and shares one load between concurrent misses', async () => {
    const load = loader();
    await Promise.all(Array.from({ length: 5 }, () => cache.get('api-key', 'p1', load)));
    expect(load).toHaveBeenCalledTimes(1);
    nowMs += CREDENTIAL_CACHE_TTL_MS;
    await cache.get('api-key', 'p1', load);
    expect(load).toHaveBeenCalledTimes(1);
    nowMs += 1;
    await cache.get('api-key', 'p1', load);
    expect(load).toHaveBeenCalledTimes(2);

    const missing = jest.fn(async () => undefined);
    await cache.get('client', 'c1', missing);
    await cache.get('client', 'c1', missing);
    expect(missing).toHaveBeenCalledTimes(2);
  });

  it('drops the least recently used entry past the bound, not everything', async () => {
    const load = loader();
    for (let i = 0; i <= CREDENTIAL_CACHE_MAX; i++) await cache.get('api-key', `p${i}`, load);
    expect(load).toHaveBeenCalledTimes(CREDENTIAL_CACHE_MAX + 1);
    await cache.get('api-key', `p${CREDENTIAL_CACHE_MAX}`, load);
    await cache.get('api-key', 'p1', load);
    expect(load).toHaveBeenCalledTimes(CREDENTIAL_CACHE_MAX + 1);
    await cache.get('api-key', 'p0', load); // the oldest went
    expect(load).toHaveBeenCalledTimes(CREDENTIAL_CACHE_MAX + 2);
  });

  it('forgets exactly what a change names; a tenant change or a missed notification forgets everything', async () => {
    const loads = { key: loader(), client: loader(), other: loader(OTHER) };
    const fill = async () => {
      await cache.get('api-key', 'p1', loads.key);
      await cache.get('client', 'c1', loads.client);
      await cache.get('api-key', 'p2', loads.other);
    };
    const calls = () => [loads.key.mock.calls.length, loads.client.mock.calls.length, loads.other.mock.calls.length];
    await fill();
    changes.published({ t: 'api_key', tenantId: TENANT, prefix: 'p1' });
    await fill();
    expect(calls()).toEqual([2, 1, 1]);
    changes.published({ t: 'client', tenantId: TENANT, clientId: 'c1' });
    await fill();
    expect(calls()).toEqual([2, 2, 1]);
    changes.published({ t: 'registered_key', tenantId: TENANT, kid: 'k' });
    await fill();
    expect(calls()).toEqual([2, 2, 1]);
    changes.published({ t: 'tenant', tenantId: TENANT });
    await fill();
    expect(calls()).toEqual([3, 3, 2]);
    changes.received('{"t":"something new"}');
    await fill();
    expect(calls()).toEqual([4, 4, 3]);
  });

  it('passes a failed load through and keeps nothing of it', async () => {
    const failing = jest.fn().mockRejectedValueOnce(new Error('connect ECONNREFUSED')).mockResolvedValue({ tenantId: TENANT });
    await expect(cache.get('api-key', 'p1', failing)).rejects.toThrow('ECONNREFUSED');
    await expect(cache.get('api-key', 'p1', failing)).resolves.toEqual({ tenantId: TENANT });
  });
});
