import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { TokenError, TokenErrorCode } from '@tessera/nest-guard';
import { signTestJwt } from '../../test/utils/test-jwt';
import { Clock } from '../common/clock';
import { jwkThumbprint, toPublicJwk } from '../common/crypto/jwk';
import { AppConfig } from '../config/app-config';
import { KeysService } from '../keys/keys.service';
import { DenylistService } from '../revocation/denylist.service';
import { RegisteredKeyResolver, ResolvedRegisteredKey } from './registered-key-resolver';
import { TokenVerifierService } from './token-verifier.service';

const ISSUER = 'https://tessera.test';
const TENANT = '11111111-1111-4111-8111-111111111111';
const OTHER_TENANT = '22222222-2222-4222-8222-222222222222';
const NOW = 1_800_000_000;

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const kidOf = (k: KeyObject) => jwkThumbprint(toPublicJwk(k));

const OWN_KID = 'own-key-1';
const REG_KID = kidOf(rsa.publicKey);
const EC_KID = kidOf(ec.publicKey);
const ED_KID = kidOf(ed.publicKey);

describe('TokenVerifierService', () => {
  let now: number;
  let revoked: jest.Mock;
  let resolve: jest.Mock;
  let verifier: TokenVerifierService;
  const registered: Record<string, ResolvedRegisteredKey> = {
    [REG_KID]: { kid: REG_KID, tenantId: TENANT, algorithm: 'RS256', keyObject: rsa.publicKey, registeredTokenMaxTtl: 600 },
    [EC_KID]: { kid: EC_KID, tenantId: TENANT, algorithm: 'ES256', keyObject: ec.publicKey, registeredTokenMaxTtl: 3600 },
    [ED_KID]: { kid: ED_KID, tenantId: OTHER_TENANT, algorithm: 'EdDSA', keyObject: ed.publicKey, registeredTokenMaxTtl: 600 },
  };

  beforeEach(() => {
    now = NOW;
    revoked = jest.fn().mockReturnValue(false);
    resolve = jest.fn(async (kid: string) => registered[kid]);
    const keys = { publishedKey: (kid: string) => (kid === OWN_KID ? { kid, alg: 'RS256', keyObject: otherRsa.publicKey } : undefined) };
    const clock = { now: () => new Date(now * 1000), nowSeconds: () => now } as Clock;
    const config = { publicUrl: ISSUER, verifyAudiences: [ISSUER, 'orders-api'], clockToleranceSeconds: 30 } as AppConfig;
    verifier = new TokenVerifierService(
      keys as unknown as KeysService,
      { resolve } as unknown as RegisteredKeyResolver,
      { isRevoked: revoked } as unknown as DenylistService,
      clock,
      config,
    );
  });

  const ownClaims = (over: Record<string, unknown> = {}) => ({
    iss: ISSUER,
    sub: 'user-1',
    aud: ISSUER,
    exp: NOW + 600,
    iat: NOW,
    nbf: NOW,
    jti: 'jti-1',
    client_id: 'tcl_x',
    scope: 'orders:read',
    tenant_id: TENANT,
    ...over,
  });
  const own = (claims: Record<string, unknown> = ownClaims(), header: Record<string, unknown> = {}) =>
    signTestJwt({ alg: 'RS256', typ: 'at+jwt', kid: OWN_KID, ...header }, claims, otherRsa.privateKey, 'RS256');

  const ampersandClaims = (over: Record<string, unknown> = {}) => ({
    sub: 'user-7',
    groupRef: 'g-1',
    consumerRef: 'c-9',
    iat: NOW,
    exp: NOW + 600,
    ...over,
  });
  const ampersand = (claims: Record<string, unknown> = ampersandClaims(), header: Record<string, unknown> = {}) =>
    signTestJwt({ alg: 'RS256', typ: 'JWT', kid: REG_KID, ...header }, claims, rsa.privateKey, 'RS256');

  async function codeOf(promise: Promise<unknown>): Promise<TokenErrorCode | 'accepted'> {
    try {
      await promise;
      return 'accepted';
    } catch (error) {
      if (error instanceof TokenError) return error.code;
      throw error;
    }
  }

  describe('verify: own access tokens', () => {
    it('accepts a valid RFC 9068 token without looking up registered keys', async () => {
      const result = await verifier.verify(own());
      expect(result).toEqual({ kind: 'access', tenantId: TENANT, claims: ownClaims(), kid: OWN_KID });
      expect(resolve).not.toHaveBeenCalled();
      expect(revoked).toHaveBeenCalledWith({ tenantId: TENANT, jti: 'jti-1', sub: 'user-1', iat: NOW });
    });

    it('accepts typ application/at+jwt and an aud array naming one accepted audience', async () => {
      await expect(verifier.verify(own(ownClaims({ aud: ['x', 'orders-api'] }), { typ: 'application/AT+JWT' }))).resolves.toMatchObject({
        kind: 'access',
      });
    });

    it.each<[string, () => string, TokenErrorCode]>([
      ['a token typed JWT', () => own(ownClaims(), { typ: 'JWT' }), 'INVALID_TOKEN_TYPE'],
      ['a token without typ', () => own(ownClaims(), { typ: undefined }), 'INVALID_TOKEN_TYPE'],
      ['another issuer', () => own(ownClaims({ iss: 'https://evil.test' })), 'INVALID_ISSUER'],
      ['no issuer', () => own(ownClaims({ iss: undefined })), 'INVALID_ISSUER'],
      ['an audience not accepted', () => own(ownClaims({ aud: 'someone-else' })), 'INVALID_AUDIENCE'],
      ['no audience', () => own(ownClaims({ aud: undefined })), 'INVALID_AUDIENCE'],
      ['no tenant_id', () => own(ownClaims({ tenant_id: undefined })), 'MALFORMED_TOKEN'],
      ['no sub', () => own(ownClaims({ sub: undefined })), 'MALFORMED_TOKEN'],
      ['no exp', () => own(ownClaims({ exp: undefined })), 'MALFORMED_TOKEN'],
      ['exp as a string', () => own(ownClaims({ exp: String(NOW + 600) })), 'MALFORMED_TOKEN'],
      ['exp beyond 2^53', () => own(ownClaims({ exp: 2 ** 54 })), 'MALFORMED_TOKEN'],
      ['expired beyond the tolerance', () => own(ownClaims({ exp: NOW - 31 })), 'TOKEN_EXPIRED'],
      ['nbf beyond the tolerance', () => own(ownClaims({ nbf: NOW + 31 })), 'TOKEN_NOT_YET_VALID'],
      ['iat in the future beyond the tolerance', () => own(ownClaims({ iat: NOW + 31 })), 'TOKEN_NOT_YET_VALID'],
      ['a tampered payload', () => tamper(own(), { sub: 'admin' }), 'INVALID_SIGNATURE'],
      ['an empty signature', () => own().replace(/\.[^.]+$/, '.'), 'INVALID_SIGNATURE'],
      [
        'alg changed to RS384 (pinned per key)',
        () => signTestJwt({ alg: 'RS384', typ: 'at+jwt', kid: OWN_KID }, ownClaims(), otherRsa.privateKey),
        'ALGORITHM_NOT_ALLOWED',
      ],
      [
        'HS256 signed with the public key PEM as secret',
        () => signTestJwt({ alg: 'HS256', typ: 'at+jwt', kid: OWN_KID }, ownClaims(), pem(otherRsa.publicKey)),
        'ALGORITHM_NOT_ALLOWED',
      ],
      ['alg none', () => signTestJwt({ alg: 'none', typ: 'at+jwt', kid: OWN_KID }, ownClaims(), '', 'none'), 'ALGORITHM_NOT_ALLOWED'],
      ['alg NoNe', () => signTestJwt({ alg: 'NoNe', typ: 'at+jwt', kid: OWN_KID }, ownClaims(), '', 'none'), 'ALGORITHM_NOT_ALLOWED'],
      ['a jku header', () => own(ownClaims(), { jku: 'http://127.0.0.1:1/jwks' }), 'MALFORMED_TOKEN'],
      ['an embedded jwk', () => own(ownClaims(), { jwk: toPublicJwk(otherRsa.publicKey) }), 'MALFORMED_TOKEN'],
      ['an unknown kid', () => own(ownClaims(), { kid: 'nope' }), 'UNKNOWN_KEY'],
      ['a path-traversal kid', () => own(ownClaims(), { kid: '../../etc/passwd' }), 'UNKNOWN_KEY'],
      ['a token over 8 KB', () => own(ownClaims({ pad: 'x'.repeat(9000) })), 'MALFORMED_TOKEN'],
      ['five parts (JWE)', () => `${own()}.a.b`, 'MALFORMED_TOKEN'],
    ])('refuses %s', async (_name, token, code) => {
      expect(await codeOf(verifier.verify(token()))).toBe(code);
    });

    it('accepts exp and nbf within the clock tolerance', async () => {
      await expect(verifier.verify(own(ownClaims({ exp: NOW - 29, nbf: NOW + 29, iat: NOW + 29 })))).resolves.toMatchObject({
        kind: 'access',
      });
    });

    it('skips only the audience rule when asked to (revocation)', async () => {
      await expect(verifier.verify(own(ownClaims({ aud: 'someone-else' })), { ignoreAudience: true })).resolves.toMatchObject({
        kind: 'access',
      });
      await expect(
        verifier.verify(ampersand(ampersandClaims({ aud: `${ISSUER}/oauth/token` })), { ignoreAudience: true }),
      ).resolves.toMatchObject({ kind: 'registered' });
      expect(await codeOf(verifier.verify(own(ownClaims({ aud: 'x', iss: 'https://evil.test' })), { ignoreAudience: true }))).toBe(
        'INVALID_ISSUER',
      );
      expect(await codeOf(verifier.verify(own(ownClaims({ aud: 'x', exp: NOW - 60 })), { ignoreAudience: true }))).toBe('TOKEN_EXPIRED');
    });

    it('answers TOKEN_REVOKED when the denylist says so', async () => {
      revoked.mockReturnValue(true);
      expect(await codeOf(verifier.verify(own()))).toBe('TOKEN_REVOKED');
    });
  });

  describe('verify: tokens signed by a registered key', () => {
    it('accepts the Ampersand token with its extra claims and the tenant of the key', async () => {
      const result = await verifier.verify(ampersand());
      expect(result).toEqual({ kind: 'registered', tenantId: TENANT, kid: REG_KID, claims: { ...ampersandClaims(), tenant_id: TENANT } });
      expect(revoked).toHaveBeenCalledWith({ tenantId: TENANT, jti: undefined, sub: 'user-7', iat: NOW });
    });

    it.each([undefined, 'JWT', 'jwt', 'at+jwt', 'application/jwt'])('accepts typ %s', async (typ) => {
      await expect(verifier.verify(ampersand(ampersandClaims(), { typ }))).resolves.toMatchObject({ kind: 'registered' });
    });

    it('accepts iss and tenant_id equal to the tenant id, and an accepted aud', async () => {
      await expect(
        verifier.verify(ampersand(ampersandClaims({ iss: TENANT, tenant_id: TENANT, aud: ['orders-api'] }))),
      ).resolves.toMatchObject({ tenantId: TENANT });
    });

    it('verifies ES256, EdDSA and the tenant of each key', async () => {
      const es = signTestJwt({ alg: 'ES256', kid: EC_KID }, ampersandClaims({ exp: NOW + 3600 }), ec.privateKey);
      await expect(verifier.verify(es)).resolves.toMatchObject({ tenantId: TENANT, kid: EC_KID });
      const eddsa = signTestJwt({ alg: 'EdDSA', kid: ED_KID }, ampersandClaims(), ed.privateKey);
      await expect(verifier.verify(eddsa)).resolves.toMatchObject({
        tenantId: OTHER_TENANT,
        claims: expect.objectContaining({ tenant_id: OTHER_TENANT }),
      });
    });

    it.each<[string, () => string, TokenErrorCode]>([
      ['typ dpop+jwt', () => ampersand(ampersandClaims(), { typ: 'dpop+jwt' }), 'INVALID_TOKEN_TYPE'],
      ['typ logout+jwt', () => ampersand(ampersandClaims(), { typ: 'logout+jwt' }), 'INVALID_TOKEN_TYPE'],
      ['typ secevent+jwt', () => ampersand(ampersandClaims(), { typ: 'secevent+jwt' }), 'INVALID_TOKEN_TYPE'],
      ['typ as a number', () => ampersand(ampersandClaims(), { typ: 7 }), 'INVALID_TOKEN_TYPE'],
      ['no sub', () => ampersand(ampersandClaims({ sub: undefined })), 'MALFORMED_TOKEN'],
      ['no iat', () => ampersand(ampersandClaims({ iat: undefined })), 'MALFORMED_TOKEN'],
      ['no exp', () => ampersand(ampersandClaims({ exp: undefined })), 'MALFORMED_TOKEN'],
      ['exp − iat over the tenant maximum', () => ampersand(ampersandClaims({ exp: NOW + 601 })), 'MALFORMED_TOKEN'],
      ['iss other than the tenant id', () => ampersand(ampersandClaims({ iss: OTHER_TENANT })), 'INVALID_ISSUER'],
      ['tenant_id of another tenant', () => ampersand(ampersandClaims({ tenant_id: OTHER_TENANT })), 'INVALID_ISSUER'],
      ['an aud not accepted', () => ampersand(ampersandClaims({ aud: 'someone-else' })), 'INVALID_AUDIENCE'],
      [
        'an aud naming the token endpoint (an assertion)',
        () => ampersand(ampersandClaims({ aud: [ISSUER, `${ISSUER}/oauth/token`] })),
        'INVALID_AUDIENCE',
      ],
      ['expired', () => ampersand(ampersandClaims({ iat: NOW - 700, exp: NOW - 100 })), 'TOKEN_EXPIRED'],
      ['nbf in the future', () => ampersand(ampersandClaims({ nbf: NOW + 120 })), 'TOKEN_NOT_YET_VALID'],
      [
        'alg other than the key’s (RS512)',
        () => signTestJwt({ alg: 'RS512', kid: REG_KID }, ampersandClaims(), rsa.privateKey),
        'ALGORITHM_NOT_ALLOWED',
      ],
      [
        'alg PS256 on an RS256 key',
        () => signTestJwt({ alg: 'PS256', kid: REG_KID }, ampersandClaims(), rsa.privateKey),
        'ALGORITHM_NOT_ALLOWED',
      ],
      [
        'HS256 with the public key PEM as secret',
        () => signTestJwt({ alg: 'HS256', kid: REG_KID }, ampersandClaims(), pem(rsa.publicKey)),
        'ALGORITHM_NOT_ALLOWED',
      ],
      [
        'HS256 with the PEM and leading whitespace as secret',
        () => signTestJwt({ alg: 'HS256', kid: REG_KID }, ampersandClaims(), `\n ${pem(rsa.publicKey)}`),
        'ALGORITHM_NOT_ALLOWED',
      ],
      [
        'a signature by another key',
        () => signTestJwt({ alg: 'RS256', kid: REG_KID }, ampersandClaims(), otherRsa.privateKey),
        'INVALID_SIGNATURE',
      ],
      [
        'ES256 with r = s = 0',
        () => withSignature(signTestJwt({ alg: 'ES256', kid: EC_KID }, ampersandClaims(), ec.privateKey), Buffer.alloc(64)),
        'INVALID_SIGNATURE',
      ],
      [
        'ES256 with a DER signature',
        () => withSignature(signTestJwt({ alg: 'ES256', kid: EC_KID }, ampersandClaims(), ec.privateKey), Buffer.alloc(70, 1)),
        'INVALID_SIGNATURE',
      ],
      ['a kid no key has', () => ampersand(ampersandClaims(), { kid: 'A'.repeat(43) }), 'UNKNOWN_KEY'],
      [
        'a duplicate sub member',
        () => rawPayload(ampersand(), '{"sub":"a","sub":"admin","iat":1800000000,"exp":1800000600}'),
        'MALFORMED_TOKEN',
      ],
      ['a crit header', () => ampersand(ampersandClaims(), { crit: ['exp'] }), 'MALFORMED_TOKEN'],
      ['b64 false', () => ampersand(ampersandClaims(), { b64: false }), 'MALFORMED_TOKEN'],
      ['an x5u header', () => ampersand(ampersandClaims(), { x5u: 'http://127.0.0.1:1/cert' }), 'MALFORMED_TOKEN'],
    ])('refuses %s', async (_name, token, code) => {
      expect(await codeOf(verifier.verify(token()))).toBe(code);
    });

    it('refuses a tenant token the denylist revoked (by jti or subject cut-off)', async () => {
      revoked.mockImplementation((c: { jti?: string }) => c.jti === 'gone');
      expect(await codeOf(verifier.verify(ampersand(ampersandClaims({ jti: 'gone' }))))).toBe('TOKEN_REVOKED');
      expect(await codeOf(verifier.verify(ampersand(ampersandClaims({ jti: 'kept' }))))).toBe('accepted');
    });
  });

  describe('verifyAssertion', () => {
    const assertionClaims = (over: Record<string, unknown> = {}) => ampersandClaims({ aud: `${ISSUER}/oauth/token`, jti: 'a-1', ...over });

    it('accepts an assertion for the token endpoint; for the issuer only where the issuer is not a verify audience', async () => {
      await expect(verifier.verifyAssertion(ampersand(assertionClaims()))).resolves.toMatchObject({ kind: 'registered', tenantId: TENANT });
      // The issuer is one of VERIFY_AUDIENCES here: a bearer token for Tessera is not an assertion (docs/adr/0014).
      expect(await codeOf(verifier.verifyAssertion(ampersand(assertionClaims({ aud: ISSUER }))))).toBe('INVALID_AUDIENCE');
      const apiOnly = new TokenVerifierService(
        { publishedKey: () => undefined } as unknown as KeysService,
        { resolve } as unknown as RegisteredKeyResolver,
        { isRevoked: revoked } as unknown as DenylistService,
        { now: () => new Date(now * 1000), nowSeconds: () => now } as Clock,
        { publicUrl: ISSUER, verifyAudiences: ['orders-api'], clockToleranceSeconds: 30 } as AppConfig,
      );
      await expect(apiOnly.verifyAssertion(ampersand(assertionClaims({ aud: ISSUER })))).resolves.toMatchObject({ kind: 'registered' });
      // …and then a token for the issuer is never a bearer token, even next to a verify audience.
      expect(await codeOf(apiOnly.verify(ampersand(ampersandClaims({ aud: [ISSUER, 'orders-api'] }))))).toBe('INVALID_AUDIENCE');
    });

    it('never accepts one token both ways', async () => {
      for (const aud of [`${ISSUER}/oauth/token`, [`${ISSUER}/oauth/token`, ISSUER], [ISSUER, 'orders-api'], ISSUER, undefined]) {
        const token = ampersand(assertionClaims({ aud }));
        const asBearer = await codeOf(verifier.verify(token));
        const asAssertion = await codeOf(verifier.verifyAssertion(token));
        expect([asBearer, asAssertion]).not.toEqual(['accepted', 'accepted']);
        expect([asBearer, asAssertion]).toContain('accepted');
      }
    });

    it.each<[string, () => string, TokenErrorCode]>([
      ['no jti', () => ampersand(assertionClaims({ jti: undefined })), 'MALFORMED_TOKEN'],
      ['no aud (a bearer token)', () => ampersand(assertionClaims({ aud: undefined })), 'INVALID_AUDIENCE'],
      ['an aud accepted for bearer tokens only', () => ampersand(assertionClaims({ aud: 'orders-api' })), 'INVALID_AUDIENCE'],
      ['typ at+jwt (an access token)', () => ampersand(assertionClaims(), { typ: 'at+jwt' }), 'INVALID_TOKEN_TYPE'],
      ['a Tessera access token', () => own(ownClaims({ aud: `${ISSUER}/oauth/token` })), 'INVALID_TOKEN_TYPE'],
      [
        'a lifetime over 600 s although the tenant allows 3600',
        () => signTestJwt({ alg: 'ES256', kid: EC_KID }, assertionClaims({ exp: NOW + 601 }), ec.privateKey),
        'MALFORMED_TOKEN',
      ],
      ['an expired assertion', () => ampersand(assertionClaims({ iat: NOW - 400, exp: NOW - 60 })), 'TOKEN_EXPIRED'],
      ['iss of another tenant', () => ampersand(assertionClaims({ iss: OTHER_TENANT })), 'INVALID_ISSUER'],
      ['an unknown key', () => ampersand(assertionClaims(), { kid: 'B'.repeat(43) }), 'UNKNOWN_KEY'],
    ])('refuses %s', async (_name, token, code) => {
      expect(await codeOf(verifier.verifyAssertion(token()))).toBe(code);
    });

    it('accepts an ES256 assertion of 600 s from a tenant allowing 3600', async () => {
      const token = signTestJwt({ alg: 'ES256', kid: EC_KID }, assertionClaims({ exp: NOW + 600 }), ec.privateKey);
      await expect(verifier.verifyAssertion(token)).resolves.toMatchObject({ kid: EC_KID });
    });
  });
});

function pem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }) as string;
}

function tamper(token: string, over: Record<string, unknown>): string {
  const [h, p, s] = token.split('.');
  const payload = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), ...over };
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
}

function rawPayload(token: string, json: string): string {
  const [h, , s] = token.split('.');
  return `${h}.${Buffer.from(json).toString('base64url')}.${s}`;
}

function withSignature(token: string, signature: Buffer): string {
  return `${token.slice(0, token.lastIndexOf('.'))}.${signature.toString('base64url')}`;
}
