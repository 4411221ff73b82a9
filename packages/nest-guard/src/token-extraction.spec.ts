import { TokenError } from './token-errors';
import { extractToken, refuseRepeatedAuthorization } from './token-extraction';

const codeOf = (fn: () => unknown) => {
  try {
    return fn();
  } catch (error) {
    return (error as TokenError).code;
  }
};

describe('extractToken', () => {
  it('reads "Authorization: Bearer <token>" with the scheme in any case', () => {
    expect(extractToken({ headers: { authorization: 'Bearer abc.def.ghi' } }, undefined, 8192)).toBe('abc.def.ghi');
    expect(extractToken({ headers: { authorization: 'bearer abc' } }, undefined, 8192)).toBe('abc');
    expect(extractToken({ headers: { authorization: 'BEARER   abc' } }, undefined, 8192)).toBe('abc');
  });

  it('falls back to the cookie, the header first', () => {
    expect(extractToken({ headers: { cookie: 'a=1; at="tok"' } }, 'at', 8192)).toBe('tok');
    expect(extractToken({ headers: { authorization: 'Basic x', cookie: 'at=tok' } }, 'at', 8192)).toBe('tok');
    expect(extractToken({ headers: { authorization: 'Bearer hdr', cookie: 'at=tok' } }, 'at', 8192)).toBe('hdr');
  });

  it.each([
    [{}, 'MISSING_TOKEN'],
    [{ authorization: '' }, 'MISSING_TOKEN'],
    [{ authorization: 'Bearer' }, 'MISSING_TOKEN'],
    [{ authorization: 'Bearer    ' }, 'MISSING_TOKEN'],
    [{ authorization: 'Basic dXNlcg==' }, 'MISSING_TOKEN'],
    [{ cookie: 'other=1' }, 'MISSING_TOKEN'],
    [{ authorization: 'Bearer a b' }, 'MALFORMED_TOKEN'],
    [{ authorization: 'Bearer\ta' }, 'MALFORMED_TOKEN'],
    [{ authorization: `Bearer ${'x'.repeat(9000)}` }, 'MALFORMED_TOKEN'],
  ])('%j → %s', (headers, code) => {
    expect(codeOf(() => extractToken({ headers }, 'at', 8192))).toBe(code);
  });
});

describe('refuseRepeatedAuthorization', () => {
  it('refuses a second Authorization header on Express and Fastify requests, whatever its case', () => {
    const twice = ['Host', 'x', 'Authorization', 'Bearer a', 'authorization', 'Bearer b'];
    expect(() => refuseRepeatedAuthorization({ rawHeaders: twice })).toThrow(TokenError);
    expect(() => refuseRepeatedAuthorization({ raw: { rawHeaders: twice } })).toThrow('more than once');
  });

  it('lets one Authorization header, or none, through', () => {
    expect(() => refuseRepeatedAuthorization({ rawHeaders: ['Authorization', 'Bearer a', 'Cookie', 'x'] })).not.toThrow();
    expect(() => refuseRepeatedAuthorization({ raw: { rawHeaders: [] } })).not.toThrow();
    expect(() => refuseRepeatedAuthorization({})).not.toThrow();
  });
});
