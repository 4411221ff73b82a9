import { generateKeyPairSync, sign } from 'node:crypto';
import { familyOf } from '../keys/pinned-key';
import { TokenError } from '../token-errors';
import { inspectJwt } from '../token-inspection';
import { typSet } from './claims';
import { verifyJwt, VerificationRules } from './verify-jwt';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const NOW = 1_800_000_000;
const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
const token = (payload: object, header: object = { alg: 'RS256', kid: 'k', typ: 'at+jwt' }, key = rsa.privateKey) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
};
const rules: VerificationRules = { issuer: 'https://iss', audiences: ['api'], acceptedTyps: typSet('at+jwt'), clockToleranceSec: 30 };
const key = { keyObject: rsa.publicKey, family: familyOf(rsa.publicKey), alg: 'RS256' };
const claims = (over: object = {}) => ({ iss: 'https://iss', aud: 'api', sub: 's', exp: NOW + 60, ...over });
const codeOf = (jwt: string, r: VerificationRules = rules, k: typeof key = key) => {
  try {
    verifyJwt(inspectJwt(jwt), k, r, NOW);
    return 'ok';
  } catch (error) {
    return (error as TokenError).code;
  }
};

describe('verifyJwt (the verification core)', () => {
  it('accepts a valid token and refuses each broken rule with its code', () => {
    expect(codeOf(token(claims()))).toBe('ok');
    expect(codeOf(token(claims({ iss: 'https://other' })))).toBe('INVALID_ISSUER');
    expect(codeOf(token(claims({ aud: 'other' })))).toBe('INVALID_AUDIENCE');
    expect(codeOf(token(claims({ aud: undefined })))).toBe('INVALID_AUDIENCE');
    expect(codeOf(token(claims({ aud: undefined })), { ...rules, audienceOptional: true })).toBe('ok');
    expect(codeOf(token(claims({ aud: 'other' })), { ...rules, audiences: undefined })).toBe('ok');
    expect(codeOf(token(claims(), { alg: 'RS256', kid: 'k', typ: 'JWT' }))).toBe('INVALID_TOKEN_TYPE');
    expect(codeOf(token(claims(), { alg: 'RS384', kid: 'k', typ: 'at+jwt' }))).toBe('ALGORITHM_NOT_ALLOWED');
    expect(codeOf(token(claims(), undefined, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey))).toBe('INVALID_SIGNATURE');
  });

  it('refuses a token whose aud names a forbidden audience, even beside an accepted one, only once the signature holds (docs/adr/0014)', () => {
    const forbidding: VerificationRules = { ...rules, forbiddenAudiences: ['https://iss/oauth/token'] };
    expect(codeOf(token(claims({ aud: ['https://iss/oauth/token', 'api'] })), forbidding)).toBe('INVALID_AUDIENCE');
    expect(codeOf(token(claims({ aud: ['api', 'https://iss/oauth/token'] })), forbidding)).toBe('INVALID_AUDIENCE');
    expect(codeOf(token(claims({ aud: 'https://iss/oauth/token' })), { ...forbidding, audiences: undefined })).toBe('INVALID_AUDIENCE');
    expect(codeOf(token(claims({ aud: ['api', 'https://other/oauth/token'] })), forbidding)).toBe('ok');
    expect(codeOf(token(claims({ aud: ['https://iss/oauth/token', 'api'] })), { ...rules, forbiddenAudiences: [] })).toBe('ok');
    // Unsigned: the signature is judged first, so a forger learns nothing about the forbidden list.
    expect(
      codeOf(
        `${token(claims({ aud: ['https://iss/oauth/token', 'api'] }))
          .split('.')
          .slice(0, 2)
          .join('.')}.AAAA`,
        forbidding,
      ),
    ).toBe('INVALID_SIGNATURE');
  });

  it('judges exp, nbf and iat before the signature: an expired or future token costs no RSA operation (issue 17.2)', () => {
    // A key whose use by the signature check throws: reaching it would not give a TokenError code.
    const untouchable = {
      ...key,
      keyObject: new Proxy(rsa.publicKey, {
        get: () => {
          throw new Error('signature check reached');
        },
      }),
    };
    expect(codeOf(token(claims({ exp: NOW - 60 })), rules, untouchable)).toBe('TOKEN_EXPIRED');
    expect(codeOf(token(claims({ nbf: NOW + 120 })), rules, untouchable)).toBe('TOKEN_NOT_YET_VALID');
    expect(codeOf(token(claims({ iat: NOW + 120 })), rules, untouchable)).toBe('TOKEN_NOT_YET_VALID');
    expect(codeOf(token(claims()), rules, untouchable)).toBeUndefined(); // the probe works: a live token reaches it
    // A forged (unsigned) token learns it is expired, nothing about audiences or issuers.
    expect(
      codeOf(
        `${token(claims({ exp: NOW - 60, aud: 'x' }))
          .split('.')
          .slice(0, 2)
          .join('.')}.AAAA`,
      ),
    ).toBe('TOKEN_EXPIRED');
    expect(
      codeOf(
        `${token(claims({ aud: 'x' }))
          .split('.')
          .slice(0, 2)
          .join('.')}.AAAA`,
      ),
    ).toBe('INVALID_SIGNATURE');
  });
});
