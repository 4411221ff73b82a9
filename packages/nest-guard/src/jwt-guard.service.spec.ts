import { generateKeyPairSync, sign } from 'node:crypto';
import { JwtVerifier } from './core/jwt-verifier';
import type { JwtGuardModuleOptions } from './jwt-guard.options';
import { JwtGuardService } from './jwt-guard.service';
import { TokenError } from './token-errors';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const token = (claims: object = {}, kid = 'k1') => {
  const input = `${b64({ alg: 'ES256', kid, typ: 'at+jwt' })}.${b64({ iss: 'https://iss', aud: 'api', sub: 's', exp: now() + 60, jti: 'j', ...claims })}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
};

describe('JwtGuardService (the fast path)', () => {
  let published: Set<string>;
  let service: JwtGuardService;
  const options = (over: Partial<JwtGuardModuleOptions> = {}): JwtGuardModuleOptions => ({
    cookieName: 'at',
    issuers: [
      {
        issuer: 'https://iss',
        audience: 'api',
        algorithms: ['ES256'],
        keyResolver: (kid) => (published.has(kid) ? { key: ec.publicKey, alg: 'ES256' } : undefined),
      },
    ],
    ...over,
  });

  beforeEach(() => {
    published = new Set(['k1']);
    service = new JwtGuardService(options());
  });
  afterEach(() => jest.restoreAllMocks());

  it('answers a verified-cache hit synchronously, with the same frozen principal and no second verification', async () => {
    const request = { headers: { authorization: `Bearer ${token()}` } };
    const verify = jest.spyOn(JwtVerifier.prototype, 'verify');
    const first = await service.authenticate(request);
    const second = service.authenticate(request);
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('serves a hit only while the keyResolver still answers the key (issue 17.6)', async () => {
    const request = { headers: { authorization: `Bearer ${token()}` } };
    await service.authenticate(request);
    published.delete('k1');
    await expect(Promise.resolve().then(() => service.authenticate(request))).rejects.toMatchObject({ code: 'UNKNOWN_KEY' });
  });

  it('keys the cache by the Bearer value or the cookie token, never by another scheme', async () => {
    const valid = token();
    await service.authenticate({ headers: { cookie: `at=${valid}` } });
    const verify = jest.spyOn(JwtVerifier.prototype, 'verify');
    expect(service.authenticate({ headers: { cookie: `at=${valid}` } })).toMatchObject({ sub: 's' });
    // Basic credentials with a cookie: the cookie's token is what counts, whatever the Basic value.
    await expect(service.authenticate({ headers: { authorization: 'Basic eDp5', cookie: 'at=garbage' } })).rejects.toBeInstanceOf(
      TokenError,
    );
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('runs the revocation hook on hits too, and forgets a revoked token', async () => {
    let revoked = false;
    const hook = jest.fn(() => revoked);
    service = new JwtGuardService(options({ issuers: [{ ...options().issuers[0], revocation: { isRevoked: hook, cacheTtlMs: 0 } }] }));
    const request = { headers: { authorization: `Bearer ${token()}` } };
    await service.authenticate(request);
    expect(service.authenticate(request)).toMatchObject({ sub: 's' }); // synchronous: the hook answered synchronously
    revoked = true;
    expect(() => service.authenticate(request)).toThrow(expect.objectContaining({ code: 'TOKEN_REVOKED' }));
    expect(hook).toHaveBeenCalledTimes(3);
  });

  it('disables the cache with verifiedCacheSize 0', async () => {
    service = new JwtGuardService(options({ verifiedCacheSize: 0 }));
    const verify = jest.spyOn(JwtVerifier.prototype, 'verify');
    const request = { headers: { authorization: `Bearer ${token()}` } };
    await service.authenticate(request);
    await service.authenticate(request);
    expect(verify).toHaveBeenCalledTimes(2);
  });
});
