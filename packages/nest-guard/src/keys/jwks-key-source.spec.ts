import { generateKeyPairSync } from 'node:crypto';
import { JwtIssuerOptions, normalizeGuardOptions } from '../jwt-guard.options';
import { TokenError } from '../token-errors';
import { JwksKeySource } from './jwks-key-source';

const MINUTE = 60_000;
const T0 = 1_800_000_000_000;
const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...(pair.publicKey.export({ format: 'jwk' }) as object), kid: 'key-a', alg: 'RS256', use: 'sig' };

/**
 * The JWKS key source against a fake JWKS transport and a fake clock (Date.now for the source and
 * its budget, performance.now for jwks-rsa's own cache, which also holds a "now" for 1 real ms:
 * `at` waits that out): keys survive failed fetches for jwksMaxStaleMs
 * after the last successful one, and no longer.
 */
describe('JwksKeySource: cached keys through failed fetches', () => {
  let clock = T0;
  let answer: { status: number; keys?: unknown[] } = { status: 200, keys: [jwk] };
  let fetches = 0;
  const fetchImpl = (async () => {
    fetches++;
    return new Response(answer.status === 200 ? JSON.stringify({ keys: answer.keys }) : 'not here', { status: answer.status });
  }) as typeof fetch;

  beforeEach(() => {
    clock = T0;
    fetches = 0;
    answer = { status: 200, keys: [jwk] };
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    jest.spyOn(performance, 'now').mockImplementation(() => clock - T0 + 1);
  });
  const at = async (ms: number) => {
    clock = ms;
    await new Promise((resolve) => setTimeout(resolve, 3));
  };
  afterEach(() => jest.restoreAllMocks());

  const source = (options: Partial<JwtIssuerOptions> = {}) => {
    const issuer = {
      issuer: 'https://idp.test',
      audience: 'api',
      algorithms: ['RS256'],
      jwksUri: 'https://idp.test/jwks.json',
      jwksRequestsPerMinute: 1000,
      ...options,
    };
    return new JwksKeySource(normalizeGuardOptions({ issuers: [issuer] }).issuers[0], () => undefined, fetchImpl);
  };
  const codeOf = async (keys: JwksKeySource) => {
    try {
      await keys.resolve('key-a', 'RS256');
      return 'ok';
    } catch (error) {
      return (error as TokenError).code;
    }
  };

  it.each([404, 503])(
    'keeps a key while the JWKS answers %i for less than jwksMaxStaleMs (default 15 min), then refuses it until a fetch succeeds',
    async (status) => {
      const keys = source(); // jwksCacheMaxAgeMs 10 min, jwksMaxStaleMs 15 min
      expect(await codeOf(keys)).toBe('ok');
      const { keyObject } = await keys.resolve('key-a', 'RS256');
      answer = { status };

      await at(T0 + 11 * MINUTE); // stale: re-fetched, the fetch fails, the key is kept
      expect(await codeOf(keys)).toBe('ok');
      expect(fetches).toBe(2);
      expect(keys.holds('key-a', keyObject, 'RS256', clock)).toBe(true);

      await at(T0 + 14 * MINUTE + 59_000);
      expect(await codeOf(keys)).toBe('ok');

      await at(T0 + 15 * MINUTE); // jwksMaxStaleMs after the last successful fetch
      expect(await codeOf(keys)).toBe('UNKNOWN_KEY');
      expect(keys.holds('key-a', keyObject, 'RS256', clock)).toBe(false);
      const fetchesAtExpiry = fetches;
      await at(clock + 1000); // within the failure back-off: refused without another fetch
      expect(await codeOf(keys)).toBe('UNKNOWN_KEY');
      expect(fetches).toBe(fetchesAtExpiry);

      await at(clock + 10_000); // still failing after the back-off: refused again
      expect(await codeOf(keys)).toBe('UNKNOWN_KEY');

      answer = { status: 200, keys: [jwk] }; // the JWKS answers again: the key verifies again
      await at(clock + 10_000);
      expect(await codeOf(keys)).toBe('ok');
      expect(keys.holds('key-a', (await keys.resolve('key-a', 'RS256')).keyObject, 'RS256', clock)).toBe(true);
    },
  );

  it('honours a configured jwksMaxStaleMs', async () => {
    const keys = source({ jwksCacheMaxAgeMs: MINUTE, jwksMaxStaleMs: 2 * MINUTE });
    expect(await codeOf(keys)).toBe('ok');
    answer = { status: 500 };
    await at(T0 + 90_000);
    expect(await codeOf(keys)).toBe('ok');
    await at(T0 + 2 * MINUTE);
    expect(await codeOf(keys)).toBe('UNKNOWN_KEY');
  });

  it('still drops a key at once when a 200 document no longer lists it', async () => {
    const keys = source({ jwksCacheMaxAgeMs: MINUTE });
    expect(await codeOf(keys)).toBe('ok');
    answer = { status: 200, keys: [] };
    await at(T0 + MINUTE);
    expect(await codeOf(keys)).toBe('UNKNOWN_KEY');
  });

  it('an unreachable JWKS (the transport throws) counts as a failed fetch too', async () => {
    const keys = source();
    expect(await codeOf(keys)).toBe('ok');
    answer = { status: 0 } as never;
    const throwing = keys as unknown as { fetchImpl: typeof fetch };
    Object.defineProperty(throwing, 'fetchImpl', {
      value: (async () => {
        throw new Error('ECONNREFUSED');
      }) as typeof fetch,
    });
    await at(T0 + 11 * MINUTE);
    expect(await codeOf(keys)).toBe('ok');
    await at(T0 + 16 * MINUTE);
    expect(await codeOf(keys)).toBe('UNKNOWN_KEY');
  });
});
