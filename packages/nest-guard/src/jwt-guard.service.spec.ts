import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { toTokenError } from './jwt-guard.service';
import { TokenError } from './token-errors';

describe('toTokenError', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: object) => jwt.sign({ iss: 'i', aud: 'a', ...claims }, privateKey, { algorithm: 'RS256' });
  const failureOf = (token: string, key = publicKey, options: jwt.VerifyOptions = {}) => {
    try {
      jwt.verify(token, key, { algorithms: ['RS256'], audience: 'a', issuer: 'i', ...options });
    } catch (error) {
      return toTokenError(error);
    }
    throw new Error('expected jsonwebtoken to refuse the token');
  };

  it.each<[string, () => TokenError, string]>([
    ['an expired token', () => failureOf(sign({ exp: now - 10 })), 'TOKEN_EXPIRED'],
    ['a token not valid yet', () => failureOf(sign({ nbf: now + 100, exp: now + 200 })), 'TOKEN_NOT_YET_VALID'],
    ['a foreign audience', () => failureOf(sign({ aud: 'b', exp: now + 60 })), 'INVALID_AUDIENCE'],
    ['a foreign issuer', () => failureOf(sign({ iss: 'x', exp: now + 60 })), 'INVALID_ISSUER'],
    ['another key', () => failureOf(sign({ exp: now + 60 }), other), 'INVALID_SIGNATURE'],
    ['an algorithm not listed', () => failureOf(sign({ exp: now + 60 }), publicKey, { algorithms: ['PS256'] }), 'ALGORITHM_NOT_ALLOWED'],
    ['an RSA key used for HS256', () => failureOf(sign({ exp: now + 60 }).replace(/^[^.]+/, Buffer.from('{"alg":"HS256"}').toString('base64url')), publicKey, { algorithms: ['HS256'] }), 'ALGORITHM_NOT_ALLOWED'],
    ['garbage', () => failureOf('a.b.c'), 'MALFORMED_TOKEN'],
  ])('maps %s', (_name, failure, code) => {
    const error = failure();
    expect(error.code).toBe(code);
    expect(error.message).not.toMatch(/expected|jwt/);
  });

  it('keeps a TokenError and maps anything unknown to INVALID_SIGNATURE', () => {
    const original = new TokenError('UNKNOWN_KEY');
    expect(toTokenError(original)).toBe(original);
    expect(toTokenError(new TypeError('"signature" must be 64 bytes')).code).toBe('INVALID_SIGNATURE');
    expect(toTokenError(undefined).code).toBe('INVALID_SIGNATURE');
  });
});
