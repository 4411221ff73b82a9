import { generateKeyPairSync } from 'node:crypto';
import { Clock } from '../common/clock';
import { JWKS_MAX_STALE_MS, JWKS_REFRESH_MS, JwksUnavailableError, RemoteKeySet } from './remote-key-set';

const URI = 'https://issuer.test/jwks';

function setup() {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256' };
  let nowMs = Date.now();
  const clock = Object.assign(new Clock(), { now: () => new Date(nowMs) });
  let up = true;
  const fetchMock = jest
    .spyOn(globalThis, 'fetch')
    .mockImplementation(async () => (up ? new Response(JSON.stringify({ keys: [jwk] })) : new Response('down', { status: 500 })));
  const failures: string[] = [];
  const set = new RemoteKeySet(URI, clock, (uri) => failures.push(uri));
  return {
    set,
    fetchMock,
    failures,
    advance: (ms: number) => (nowMs += ms),
    setUp: (value: boolean) => (up = value),
  };
}

describe('RemoteKeySet', () => {
  afterEach(() => jest.restoreAllMocks());

  describe('resolve', () => {
    it('fetches once, then answers from the current generation until it is due for a refresh', async () => {
      const { set, fetchMock, advance } = setup();
      expect((await set.resolve('k1', 'RS256')).alg).toBe('RS256');
      advance(JWKS_REFRESH_MS - 1);
      await set.resolve('k1', 'RS256');
      expect(fetchMock).toHaveBeenCalledTimes(1);
      advance(1);
      await set.resolve('k1', 'RS256');
      expect(fetchMock).toHaveBeenCalledTimes(2);
    });

    it('keeps the last keys through an outage until JWKS_MAX_STALE_MS after their fetch, then refuses', async () => {
      const { set, advance, setUp, failures } = setup();
      await set.resolve('k1', 'RS256');
      setUp(false);
      advance(JWKS_REFRESH_MS);
      await expect(set.resolve('k1', 'RS256')).resolves.toBeDefined();
      expect(failures).toEqual([URI]);
      advance(JWKS_MAX_STALE_MS - JWKS_REFRESH_MS - 1);
      await expect(set.resolve('k1', 'RS256')).resolves.toBeDefined();
      advance(1);
      await expect(set.resolve('k1', 'RS256')).rejects.toBeInstanceOf(JwksUnavailableError);
      setUp(true);
      advance(10_000);
      await expect(set.resolve('k1', 'RS256')).resolves.toBeDefined();
    });

    it('refuses at once when the first fetch fails (no keys held)', async () => {
      const { set, setUp } = setup();
      setUp(false);
      await expect(set.resolve('k1', 'RS256')).rejects.toBeInstanceOf(JwksUnavailableError);
    });

    it('keeps a new generation whose fetch worked even when the kid is unknown or the algorithm not the key’s', async () => {
      const { set, fetchMock } = setup();
      await expect(set.resolve('nope', 'RS256')).rejects.toMatchObject({ code: 'UNKNOWN_KEY' });
      await expect(set.resolve('k1', 'ES256')).rejects.toMatchObject({ code: 'ALGORITHM_NOT_ALLOWED' });
      await expect(set.resolve('k1', 'RS256')).resolves.toBeDefined();
      expect(fetchMock.mock.calls.length).toBeLessThanOrEqual(3);
    });
  });
});
