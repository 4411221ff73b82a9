import { TokenError } from '../token-errors';
import { audienceAccepted, audiencesOf, checkTimes, checkTyp, typSet } from './claims';

const codeOf = (fn: () => void) => {
  try {
    fn();
    return 'ok';
  } catch (error) {
    return (error as TokenError).code;
  }
};

describe('claims', () => {
  const NOW = 1_800_000_000;

  it('checks exp (required), nbf and iat with the tolerance either way', () => {
    expect(codeOf(() => checkTimes({ exp: NOW + 1 }, NOW, 0))).toBe('ok');
    expect(codeOf(() => checkTimes({}, NOW, 30))).toBe('MALFORMED_TOKEN');
    expect(codeOf(() => checkTimes({ exp: NOW - 30 }, NOW, 30))).toBe('TOKEN_EXPIRED');
    expect(codeOf(() => checkTimes({ exp: NOW - 29 }, NOW, 30))).toBe('ok');
    expect(codeOf(() => checkTimes({ exp: NOW + 60, nbf: NOW + 31 }, NOW, 30))).toBe('TOKEN_NOT_YET_VALID');
    expect(codeOf(() => checkTimes({ exp: NOW + 60, nbf: NOW + 30 }, NOW, 30))).toBe('ok');
    expect(codeOf(() => checkTimes({ exp: NOW + 60, iat: NOW + 31 }, NOW, 30))).toBe('TOKEN_NOT_YET_VALID');
  });

  it('accepts typ case-insensitively, with or without application/, and absent only where allowed', () => {
    const atJwt = typSet('at+jwt');
    expect(codeOf(() => checkTyp('Application/AT+JWT', atJwt))).toBe('ok');
    expect(codeOf(() => checkTyp('at+jwt', atJwt))).toBe('ok');
    expect(codeOf(() => checkTyp(undefined, atJwt))).toBe('INVALID_TOKEN_TYPE');
    expect(codeOf(() => checkTyp(undefined, atJwt, true))).toBe('ok');
    expect(codeOf(() => checkTyp('JWT', atJwt))).toBe('INVALID_TOKEN_TYPE');
    expect(codeOf(() => checkTyp(7, null))).toBe('INVALID_TOKEN_TYPE');
    for (const typ of [undefined, 'JWT', 'application/jwt', 'at+jwt']) expect(codeOf(() => checkTyp(typ, null))).toBe('ok');
    expect(codeOf(() => checkTyp('dpop+jwt', null))).toBe('INVALID_TOKEN_TYPE');
  });

  it('matches aud strings and arrays against the accepted audiences', () => {
    expect(audienceAccepted('a', ['a', 'b'])).toBe(true);
    expect(audienceAccepted(['x', 'b'], ['a', 'b'])).toBe(true);
    expect(audienceAccepted(['x'], ['a'])).toBe(false);
    expect(audienceAccepted(undefined, ['a'])).toBe(false);
    expect(audienceAccepted([], ['a'])).toBe(false);
    expect(audiencesOf(['a', 1, 'b'])).toEqual(['a', 'b']);
  });
});
