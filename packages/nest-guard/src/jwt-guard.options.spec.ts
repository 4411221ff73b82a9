import { JwtGuardConfigError, JwtIssuerOptions, normalizeGuardOptions } from './jwt-guard.options';

const jwksIssuer: JwtIssuerOptions = {
  issuer: 'https://tessera.test',
  audience: 'api',
  algorithms: ['RS256'],
  jwksUri: 'https://tessera.test/.well-known/jwks.json',
};
const normalize = (issuer: Partial<JwtIssuerOptions>, extra: object = {}) =>
  normalizeGuardOptions({ issuers: [{ ...jwksIssuer, ...issuer } as JwtIssuerOptions], ...extra });

describe('normalizeGuardOptions', () => {
  it('fills in the defaults of the issue', () => {
    const options = normalize({});
    expect(options).toMatchObject({ verifiedCacheSize: 10_000, verifiedCacheTtlMs: 60_000, maxTokenBytes: 8192 });
    expect(options.issuers[0]).toMatchObject({
      audience: ['api'],
      keySource: 'jwks',
      clockToleranceSec: 30,
      jwksRequestsPerMinute: 10,
      jwksCacheMaxAgeMs: 600_000,
      jwksMaxStaleMs: 900_000,
      jwksTimeoutMs: 5000,
      forbiddenAudiences: ['https://tessera.test/oauth/token'],
    });
    expect([...(options.issuers[0].acceptedTyps ?? [])]).toEqual(['at+jwt', 'application/at+jwt']);
  });

  it('accepts any of absent/JWT/at+jwt with requiredTyp false, and a custom typ otherwise', () => {
    expect(normalize({ requiredTyp: false }).issuers[0].acceptedTyps).toBeNull();
    expect([...(normalize({ requiredTyp: 'application/JWT' }).issuers[0].acceptedTyps ?? [])]).toEqual(['jwt', 'application/jwt']);
  });

  it.each<[string, Partial<JwtIssuerOptions>, RegExp]>([
    ['alg none', { algorithms: ['none'] }, /"none" can never be accepted/],
    ['alg NONE', { algorithms: ['RS256', 'NONE'] }, /"none" can never be accepted/],
    ['an unsupported algorithm', { algorithms: ['RS1'] }, /unsupported algorithm "RS1"/],
    ['HS256 mixed with EdDSA', { algorithms: ['EdDSA', 'HS256'] }, /cannot be mixed/],
    ['HS* mixed with asymmetric', { algorithms: ['HS256', 'RS256'] }, /cannot be mixed/],
    ['empty algorithms', { algorithms: [] }, /algorithms is required/],
    ['no key source', { jwksUri: undefined }, /exactly one of jwksUri, secret or keyResolver/],
    ['two key sources', { keyResolver: async () => undefined }, /exactly one of/],
    ['a secret with RS256', { jwksUri: undefined, secret: 'x'.repeat(64) }, /secret can only be used with HS/],
    ['a JWKS with HS256', { algorithms: ['HS256'] }, /JWKS cannot be used with HMAC/],
    ['a short HS256 secret', { jwksUri: undefined, algorithms: ['HS256'], secret: 'x'.repeat(31) }, /at least 32 bytes/],
    ['a short HS512 secret', { jwksUri: undefined, algorithms: ['HS256', 'HS512'], secret: 'x'.repeat(63) }, /at least 64 bytes/],
    ['a non-http jwksUri', { jwksUri: 'file:///etc/passwd' }, /must be http/],
    ['no audience', { audience: [] }, /audience is required/],
    ['a zero rate limit', { jwksRequestsPerMinute: 0 }, /jwksRequestsPerMinute must be a positive integer/],
    ['a negative tolerance', { clockToleranceSec: -1 }, /clockToleranceSec must be a non-negative integer/],
    ['an empty requiredTyp', { requiredTyp: '' }, /requiredTyp must be/],
    [
      'jwksMaxStaleMs below jwksCacheMaxAgeMs',
      { jwksCacheMaxAgeMs: 60_000, jwksMaxStaleMs: 59_999 },
      /jwksMaxStaleMs must be at least jwksCacheMaxAgeMs/,
    ],
    ['a zero jwksMaxStaleMs', { jwksMaxStaleMs: 0 }, /jwksMaxStaleMs must be a positive integer/],
    ['forbiddenAudiences not a list of strings', { forbiddenAudiences: [''] }, /forbiddenAudiences must be an array/],
    ['an audience that is also forbidden', { audience: ['api', 'https://tessera.test/oauth/token'] }, /also in forbiddenAudiences/],
    ['a revocation without isRevoked', { revocation: {} as never }, /isRevoked must be a function/],
  ])('refuses %s', (_name, issuer, message) => {
    expect(() => normalize(issuer)).toThrow(JwtGuardConfigError);
    expect(() => normalize(issuer)).toThrow(message);
  });

  it("forbids Tessera's token endpoint as an audience by default: from a URL issuer, and from a tenant JWKS (docs/adr/0014)", () => {
    const tenant = normalize({
      issuer: 'tenant-1',
      audience: 'https://auth.test',
      jwksUri: 'https://auth.test/base/v1/tenants/tenant-1/jwks.json',
    }).issuers[0];
    expect(tenant.forbiddenAudiences).toEqual(['https://auth.test/base/oauth/token']);
    expect(normalize({ issuer: 'https://tessera.test/' }).issuers[0].forbiddenAudiences).toEqual(['https://tessera.test/oauth/token']);
    expect(normalize({ issuer: 'opaque', jwksUri: 'https://idp.test/keys' }).issuers[0].forbiddenAudiences).toEqual([]);
    expect(normalize({ forbiddenAudiences: [] }).issuers[0].forbiddenAudiences).toEqual([]);
    expect(normalize({ forbiddenAudiences: ['x', 'x'] }).issuers[0].forbiddenAudiences).toEqual(['x']);
  });

  it('defaults jwksMaxStaleMs to 15 minutes, or jwksCacheMaxAgeMs when that is longer', () => {
    expect(normalize({ jwksCacheMaxAgeMs: 3_600_000 }).issuers[0].jwksMaxStaleMs).toBe(3_600_000);
    expect(normalize({ jwksCacheMaxAgeMs: 1000, jwksMaxStaleMs: 1000 }).issuers[0].jwksMaxStaleMs).toBe(1000);
  });

  it('refuses no issuers, a duplicate issuer and a bad cookie name', () => {
    expect(() => normalizeGuardOptions({ issuers: [] })).toThrow(/at least one issuer/);
    expect(() => normalizeGuardOptions({ issuers: [jwksIssuer, jwksIssuer] })).toThrow(/listed twice/);
    expect(() => normalize({}, { cookieName: 'a b' })).toThrow(/cookieName/);
  });

  it('accepts an HMAC issuer with a long enough secret, as a string or a Buffer', () => {
    expect(normalize({ jwksUri: undefined, algorithms: ['HS256'], secret: 'x'.repeat(32) }).issuers[0].secret).toEqual(
      Buffer.from('x'.repeat(32)),
    );
    expect(normalize({ jwksUri: undefined, algorithms: ['HS384'], secret: Buffer.alloc(48, 1) }).issuers[0].keySource).toBe('secret');
  });
});
