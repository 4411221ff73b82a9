import { claimHeaders, MAX_CLAIM_HEADER_LENGTH } from './claim-headers';
import { bearerToken, cookieValue, forwardedTarget, normalisePath } from './forwarded-request';

describe('forwarded request', () => {
  describe('bearerToken', () => {
    it('reads Bearer in any case and nothing else', () => {
      expect(bearerToken({ authorization: 'Bearer abc.def.ghi' })).toBe('abc.def.ghi');
      expect(bearerToken({ authorization: 'bearer  abc' })).toBe('abc');
      expect(bearerToken({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
      expect(bearerToken({ authorization: 'Bearer' })).toBeUndefined();
      expect(bearerToken({ authorization: 'Bearer a b' })).toBeUndefined();
      expect(bearerToken({})).toBeUndefined();
    });
  });

  describe('cookieValue', () => {
    it('finds the named cookie, unquoted, and ignores prefixes of the name', () => {
      const headers = { cookie: 'xsession=nope; session="abc.def"; other=1' };
      expect(cookieValue(headers, 'session')).toBe('abc.def');
      expect(cookieValue({ cookie: 'session=' }, 'session')).toBeUndefined();
      expect(cookieValue({ cookie: 'a=1' }, 'session')).toBeUndefined();
    });
  });

  describe('forwardedTarget', () => {
    it('prefers X-Forwarded-* and falls back to nginx’s X-Original-*', () => {
      expect(forwardedTarget({ 'x-forwarded-method': 'post', 'x-forwarded-uri': '/a', 'x-original-uri': '/b' })).toEqual({ method: 'POST', uri: '/a' });
      expect(forwardedTarget({ 'x-original-method': 'GET', 'x-original-uri': '/b?x=1' })).toEqual({ method: 'GET', uri: '/b?x=1' });
      expect(forwardedTarget({})).toEqual({ method: undefined, uri: undefined });
    });
  });

  describe('normalisePath', () => {
    it.each([
      ['/orders/1?x=1#f', '/orders/1'],
      ['/public/../orders/1', '/orders/1'],
      ['/public/..%2Forders/1', '/orders/1'],
      ['/public/%2e%2e/orders/1', '/orders/1'],
      ['//orders//1', '/orders/1'],
      ['/%6Frders/1', '/orders/1'],
      ['\\orders\\1', '/orders/1'],
      ['/./orders/./1/', '/orders/1/'],
      ['/../../orders', '/orders'],
      ['https://shop.example/orders/1?q', '/orders/1'],
      ['/', '/'],
    ])('%s → %s', (uri, path) => {
      expect(normalisePath(uri)).toBe(path);
    });

    it('refuses what cannot be decoded or carries control characters', () => {
      expect(normalisePath('/orders/%E0%A4%A')).toBeUndefined();
      expect(normalisePath('/orders/%0d%0a')).toBeUndefined();
    });
  });

  describe('claimHeaders', () => {
    const mappings = [
      { claim: 'sub', header: 'x-user-id' },
      { claim: 'scope', header: 'x-scope' },
      { claim: 'roles', header: 'x-roles' },
      { claim: 'n', header: 'x-n' },
      { claim: 'obj', header: 'x-obj' },
      { claim: 'missing', header: 'x-missing' },
    ];

    it('writes strings, numbers and arrays joined by a space; leaves out objects and absent claims', () => {
      expect(claimHeaders({ sub: 'user-1', scope: 'a b', roles: ['admin', 'ops', { x: 1 }], n: 42, obj: { a: 1 } }, mappings)).toEqual({
        'x-user-id': 'user-1',
        'x-scope': 'a b',
        'x-roles': 'admin ops',
        'x-n': '42',
      });
    });

    it('percent-encodes CR, LF, other controls, % and non-ASCII, so no header can be split or two values merged', () => {
      const headers = claimHeaders({ sub: 'a\r\nx-admin: 1', scope: 'é 100% ✓ 😀 \ud800' }, mappings);
      expect(headers['x-user-id']).toBe('a%0D%0Ax-admin: 1');
      expect(headers['x-scope']).toBe('%C3%A9 100%25 %E2%9C%93 %F0%9F%98%80 %EF%BF%BD');
      expect(claimHeaders({ sub: ' admin' }, mappings)['x-user-id']).toBe(' admin');
    });

    it('leaves out values over the length cap rather than cutting them', () => {
      expect(claimHeaders({ sub: 'x'.repeat(MAX_CLAIM_HEADER_LENGTH) }, mappings)['x-user-id']).toHaveLength(MAX_CLAIM_HEADER_LENGTH);
      expect(claimHeaders({ sub: 'x'.repeat(MAX_CLAIM_HEADER_LENGTH + 1) }, mappings)).toEqual({});
      expect(claimHeaders({ sub: 'é'.repeat(MAX_CLAIM_HEADER_LENGTH / 2) }, mappings)).toEqual({});
    });
  });
});
