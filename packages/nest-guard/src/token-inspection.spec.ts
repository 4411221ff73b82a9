import { generateKeyPairSync, sign } from 'node:crypto';
import { TokenError, TokenErrorCode } from './token-errors';
import { hasDuplicateMembers, inspectJwt } from './token-inspection';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** A token from raw JSON text, so duplicate members and odd values survive. */
function rawToken(headerJson: string, payloadJson: string, signature = 'c2ln'): string {
  return `${b64(headerJson)}.${b64(payloadJson)}.${signature}`;
}
function token(header: Record<string, unknown>, payload: Record<string, unknown> = { sub: 'u1' }): string {
  return rawToken(JSON.stringify(header), JSON.stringify(payload));
}
const GOOD_HEADER = { alg: 'RS256', kid: 'k1', typ: 'at+jwt' };

function codeOf(fn: () => unknown): TokenErrorCode | 'no error' {
  try {
    fn();
    return 'no error';
  } catch (error) {
    expect(error).toBeInstanceOf(TokenError);
    return (error as TokenError).code;
  }
}

describe('inspectJwt', () => {
  it('splits and decodes a well-formed RS256 token', () => {
    const signingInput = `${b64(JSON.stringify(GOOD_HEADER))}.${b64(JSON.stringify({ sub: 'u1', exp: 2_000_000_000, aud: ['a'] }))}`;
    const signature = sign('sha256', Buffer.from(signingInput), privateKey);
    const inspected = inspectJwt(`${signingInput}.${signature.toString('base64url')}`);
    expect(inspected.header).toEqual(GOOD_HEADER);
    expect(inspected.payload).toEqual({ sub: 'u1', exp: 2_000_000_000, aud: ['a'] });
    expect(inspected.signingInput).toBe(signingInput);
    expect(inspected.signature.equals(signature)).toBe(true);
  });

  it('accepts a hostile-looking kid that is still a plain string (lookup will simply not find it)', () => {
    expect(codeOf(() => inspectJwt(token({ alg: 'RS256', kid: '../../etc/passwd' })))).toBe('no error');
    expect(codeOf(() => inspectJwt(token({ alg: 'RS256', kid: "' OR 1=1 --" })))).toBe('no error');
  });

  describe('MALFORMED_TOKEN', () => {
    it.each([
      ['an empty string', ''],
      ['one part', 'abc'],
      ['two parts', `${b64('{"alg":"RS256","kid":"k"}')}.${b64('{}')}`],
      ['five parts (a JWE)', `${b64('{"alg":"RSA-OAEP","enc":"A256GCM","kid":"k"}')}.a.b.c.d`],
      ['four parts', `${token(GOOD_HEADER)}.x`],
      ['an empty header', `.${b64('{}')}.c2ln`],
      ['padding in base64url', `${b64(JSON.stringify(GOOD_HEADER))}=.${b64('{"sub":"a"}')}.c2ln`],
      [
        '"+" and "/" (base64, not base64url)',
        `${Buffer.from(JSON.stringify({ ...GOOD_HEADER, x: '>>>???' })).toString('base64')}.${b64('{}')}.c2ln`,
      ],
      [
        'non-canonical trailing bits',
        `${b64(JSON.stringify(GOOD_HEADER)).slice(0, -1)}${nonCanonicalLast(b64(JSON.stringify(GOOD_HEADER)))}.${b64('{}')}.c2ln`,
      ],
      ['a bad character in the signature', `${token(GOOD_HEADER).slice(0, -4)}c2l*`],
      ['a non-JSON header', `${b64('not json')}.${b64('{}')}.c2ln`],
      ['a JSON array header', rawToken('["RS256"]', '{}')],
      ['a JSON string payload', rawToken(JSON.stringify(GOOD_HEADER), '"sub"')],
      ['a null payload', rawToken(JSON.stringify(GOOD_HEADER), 'null')],
      ['duplicate payload members', rawToken(JSON.stringify(GOOD_HEADER), '{"sub":"a","sub":"admin"}')],
      ['duplicate members after unescaping', rawToken(JSON.stringify(GOOD_HEADER), '{"sub":"a","\\u0073ub":"admin"}')],
      ['two algs in the header', rawToken('{"alg":"RS256","kid":"k1","alg":"none"}', '{}')],
      ['an embedded jwk header', token({ ...GOOD_HEADER, jwk: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } })],
      ['a jku header', token({ ...GOOD_HEADER, jku: 'http://127.0.0.1:1/jwks.json' })],
      ['an x5u header', token({ ...GOOD_HEADER, x5u: 'http://127.0.0.1:1/cert.pem' })],
      ['an x5c header', token({ ...GOOD_HEADER, x5c: ['MIIB'] })],
      ['an unknown crit entry', token({ ...GOOD_HEADER, crit: ['exp'], exp: 1 })],
      ['b64: false', token({ ...GOOD_HEADER, b64: false, crit: ['b64'] })],
      ['b64 without crit', token({ ...GOOD_HEADER, b64: false })],
      ['exp as a string', token(GOOD_HEADER, { sub: 'a', exp: '2000000000' })],
      ['exp beyond 2^53', rawToken(JSON.stringify(GOOD_HEADER), '{"sub":"a","exp":9007199254740993}')],
      ['exp as 1e400 (Infinity)', rawToken(JSON.stringify(GOOD_HEADER), '{"sub":"a","exp":1e400}')],
      ['negative nbf', token(GOOD_HEADER, { sub: 'a', nbf: -1 })],
      ['iat as an object', token(GOOD_HEADER, { sub: 'a', iat: {} })],
      ['iss as a number', token(GOOD_HEADER, { sub: 'a', iss: 5 })],
      ['sub as an array', token(GOOD_HEADER, { sub: ['a'] })],
      ['aud with a number', token(GOOD_HEADER, { sub: 'a', aud: ['x', 1] })],
    ])('refuses %s', (_name, value) => {
      expect(codeOf(() => inspectJwt(value))).toBe('MALFORMED_TOKEN');
    });

    it('refuses a token over 8 KB before decoding it', () => {
      const big = token(GOOD_HEADER, { sub: 'a', pad: 'x'.repeat(8200) });
      expect(big.length).toBeGreaterThan(8192);
      expect(codeOf(() => inspectJwt(big))).toBe('MALFORMED_TOKEN');
      // Not even a valid token shape is looked at when it is too large.
      expect(codeOf(() => inspectJwt('x'.repeat(9000)))).toBe('MALFORMED_TOKEN');
      expect(() => inspectJwt(big)).toThrow('Token is too large');
    });

    it('honours a custom size limit', () => {
      const t = token(GOOD_HEADER);
      expect(codeOf(() => inspectJwt(t, t.length))).toBe('no error');
      expect(codeOf(() => inspectJwt(t, t.length - 1))).toBe('MALFORMED_TOKEN');
    });

    it('never puts token content into the message', () => {
      const secretish = 'SECRET-VALUE-123';
      for (const t of [
        rawToken(`{"alg":"RS256","kid":"${secretish}","kid":"x"}`, '{}'),
        token({ ...GOOD_HEADER, jku: `http://${secretish}` }),
        token(GOOD_HEADER, { sub: 'a', exp: secretish }),
      ]) {
        try {
          inspectJwt(t);
          throw new Error('expected a TokenError');
        } catch (error) {
          expect((error as Error).message).not.toContain(secretish);
        }
      }
    });
  });

  describe('ALGORITHM_NOT_ALLOWED', () => {
    it.each(['none', 'None', 'NONE', 'nOnE'])('refuses alg "%s", with or without a signature', (alg) => {
      expect(codeOf(() => inspectJwt(token({ alg, kid: 'k1' })))).toBe('ALGORITHM_NOT_ALLOWED');
      expect(codeOf(() => inspectJwt(`${b64(JSON.stringify({ alg, kid: 'k1' }))}.${b64('{"sub":"admin"}')}.`))).toBe(
        'ALGORITHM_NOT_ALLOWED',
      );
    });

    it.each([
      ['a missing alg', { kid: 'k1' }],
      ['an empty alg', { alg: '', kid: 'k1' }],
      ['a non-string alg', { alg: ['RS256'], kid: 'k1' }],
    ])('refuses %s', (_name, header) => {
      expect(codeOf(() => inspectJwt(token(header)))).toBe('ALGORITHM_NOT_ALLOWED');
    });
  });

  describe('UNKNOWN_KEY', () => {
    it.each([
      ['a missing kid', { alg: 'RS256' }],
      ['an empty kid', { alg: 'RS256', kid: '' }],
      ['a numeric kid', { alg: 'RS256', kid: 42 }],
      ['an object kid', { alg: 'RS256', kid: { $ne: null } }],
      ['a kid over 256 characters', { alg: 'RS256', kid: 'k'.repeat(257) }],
      ['a kid with a newline', { alg: 'RS256', kid: 'k1\nINFO forged log line' }],
      ['a kid with a NUL byte', { alg: 'RS256', kid: 'k1\u0000' }],
      ['a kid with DEL', { alg: 'RS256', kid: 'k1\u007f' }],
      ['a kid with a C1 control', { alg: 'RS256', kid: 'k1\u0085' }],
    ])('refuses %s', (_name, header) => {
      expect(codeOf(() => inspectJwt(token(header)))).toBe('UNKNOWN_KEY');
    });

    it('accepts a kid of exactly 256 characters', () => {
      expect(codeOf(() => inspectJwt(token({ alg: 'RS256', kid: 'k'.repeat(256) })))).toBe('no error');
    });

    it('lets an HMAC issuer accept a token without kid when asked', () => {
      expect(codeOf(() => inspectJwt(token({ alg: 'HS256' }), undefined, { requireKid: false }))).toBe('no error');
      // A present kid is still checked.
      expect(codeOf(() => inspectJwt(token({ alg: 'HS256', kid: 'a\nb' }), undefined, { requireKid: false }))).toBe('UNKNOWN_KEY');
    });
  });
});

describe('hasDuplicateMembers', () => {
  it.each([
    ['{"a":1,"b":2}', false],
    ['{"a":{"a":1},"b":[{"a":1},{"a":2}]}', false],
    ['{"a":"{\\"a\\":1,\\"a\\":2}"}', false],
    ['{"a":1,"a":2}', true],
    ['{"x":{"a":1,"a":2}}', true],
    ['{"x":[{"a":1,"a":2}]}', true],
    ['{"a\\"":1,"a\\u0022":2}', true],
    ['{"x":[1,"a",{"b":1}],"a":1,"b":1}', false],
  ])('%s → %s', (text, expected) => {
    JSON.parse(text);
    expect(hasDuplicateMembers(text)).toBe(expected);
  });
});

/** Changes the last character to one with the same 6-bit prefix but non-zero unused bits. */
function nonCanonicalLast(encoded: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const unusedBits = [0, 0, 4, 2][encoded.length % 4];
  const index = alphabet.indexOf(encoded[encoded.length - 1]);
  if (unusedBits === 0) throw new Error('pick a header whose encoding has unused bits');
  return alphabet[index | 1];
}
