import { parseForwardedSource } from '../config/forward-auth/forwarded-source';
import { claimHeaders, MAX_CLAIM_HEADER_LENGTH } from './claim-headers';
import {
  bearerToken,
  cookieValue,
  dpopToken,
  forwardedHtu,
  ForwardedRequestError,
  normalisePath,
  readForwardedRequest,
} from './forwarded-request';

describe('forwarded request', () => {
  describe('dpopToken and forwardedHtu', () => {
    it('reads DPoP in any case and nothing else', () => {
      expect(dpopToken({ authorization: 'DPoP abc.def.ghi' })).toBe('abc.def.ghi');
      expect(dpopToken({ authorization: 'dpop abc' })).toBe('abc');
      expect(dpopToken({ authorization: 'Bearer abc' })).toBeUndefined();
    });

    it('rebuilds proto://host/path without the query, only when the source said all three', () => {
      expect(forwardedHtu({ method: 'GET', uri: '/orders/1?x=1#f', proto: 'https', host: 'api.example.com' })).toBe(
        'https://api.example.com/orders/1',
      );
      expect(forwardedHtu({ method: 'GET', uri: 'https://other.example/orders?x', proto: 'https', host: 'api.example.com' })).toBe(
        'https://api.example.com/orders',
      );
      expect(forwardedHtu({ method: 'GET', uri: '/orders', proto: undefined, host: 'api.example.com' })).toBeUndefined();
      expect(forwardedHtu({ method: 'GET', uri: '/orders', proto: 'https', host: undefined })).toBeUndefined();
    });
  });

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

  describe('readForwardedRequest', () => {
    const nginx = parseForwardedSource('nginx');
    const traefik = parseForwardedSource('traefik');
    const envoy = parseForwardedSource('envoy');
    const refusal = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        if (error instanceof ForwardedRequestError) return error.message;
        throw error;
      }
      return undefined;
    };

    it('reads method, URI, proto and host from the configured source only', () => {
      expect(
        readForwardedRequest(nginx, {
          'x-original-method': 'post',
          'x-original-uri': '/a?x=1',
          'x-forwarded-proto': 'HTTPS',
          'x-forwarded-host': 'Shop.example',
        }),
      ).toEqual({
        method: 'POST',
        uri: '/a?x=1',
        proto: 'https',
        host: 'shop.example',
      });
      expect(
        readForwardedRequest(traefik, {
          'x-forwarded-method': 'GET',
          'x-forwarded-uri': '/b',
          'x-forwarded-proto': 'http',
          'x-forwarded-host': 'h:8080',
        }),
      ).toEqual({
        method: 'GET',
        uri: '/b',
        proto: 'http',
        host: 'h:8080',
      });
      expect(
        readForwardedRequest(envoy, { host: 'api.example', 'x-forwarded-proto': 'https' }, [], { method: 'DELETE', uri: '/c' }),
      ).toEqual({
        method: 'DELETE',
        uri: '/c',
        proto: 'https',
        host: 'api.example',
      });
      expect(readForwardedRequest(parseForwardedSource('headers:x-m,x-u'), { 'x-m': 'get', 'x-u': '/d' })).toMatchObject({
        method: 'GET',
        uri: '/d',
      });
      expect(readForwardedRequest(nginx, {})).toEqual({ method: undefined, uri: undefined, proto: undefined, host: undefined });
    });

    it('accepts another known source that names the same request', () => {
      const headers = {
        'x-original-method': 'GET',
        'x-original-uri': '/orders/1?x',
        'x-forwarded-method': 'get',
        'x-forwarded-uri': '//orders/1',
      };
      expect(readForwardedRequest(nginx, headers)).toMatchObject({ method: 'GET', uri: '/orders/1?x' });
      expect(readForwardedRequest(traefik, headers)).toMatchObject({ method: 'GET', uri: '//orders/1' });
    });

    it('refuses another known source that names a different request, or one alone that the source does not read', () => {
      const real = { 'x-original-method': 'GET', 'x-original-uri': '/orders/1' };
      expect(refusal(() => readForwardedRequest(nginx, { ...real, 'x-forwarded-uri': '/open/page' }))).toBe(
        'X-Forwarded-Uri names another request than X-Original-Method / X-Original-Uri (FORWARD_AUTH_SOURCE=nginx): ' +
          'have the proxy clear X-Forwarded-Uri, or set FORWARD_AUTH_SOURCE to the proxy that sends it',
      );
      expect(refusal(() => readForwardedRequest(nginx, { ...real, 'x-forwarded-method': 'DELETE' }))).toMatch(
        /^X-Forwarded-Method names another request/,
      );
      expect(refusal(() => readForwardedRequest(nginx, { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/open' }))).toMatch(
        /^X-Forwarded-Method names another request/,
      );
      expect(
        refusal(() =>
          readForwardedRequest(traefik, { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/orders/1', 'x-original-uri': '/open' }),
        ),
      ).toMatch(/^X-Original-Uri names/);
      expect(refusal(() => readForwardedRequest(envoy, { 'x-original-uri': '/open' }, [], { method: 'GET', uri: '/orders/1' }))).toMatch(
        /the Envoy form/,
      );
      expect(
        refusal(() => readForwardedRequest(parseForwardedSource('headers:x-m,x-u'), { 'x-m': 'GET', 'x-u': '/a', 'x-original-uri': '/b' })),
      ).toMatch(/^X-Original-Uri/);
    });

    it('refuses a header it reads that arrived twice, a proto or host with two values, and the Envoy form under another source', () => {
      expect(
        refusal(() => readForwardedRequest(nginx, { 'x-original-uri': '/a, /b' }, ['X-Original-URI', '/a', 'x-original-uri', '/b'])),
      ).toMatch(/^X-Original-Uri arrived 2 times/);
      expect(refusal(() => readForwardedRequest(nginx, { 'x-forwarded-proto': 'https, http' }))).toMatch(
        /^X-Forwarded-Proto carries more than one value/,
      );
      expect(refusal(() => readForwardedRequest(nginx, {}, [], { method: 'GET', uri: '/a' }))).toMatch(/set FORWARD_AUTH_SOURCE=envoy$/);
      expect(readForwardedRequest(nginx, { 'x-original-uri': '/a' }, ['X-Original-URI', '/a', 'X-Forwarded-Uri', '']).uri).toBe('/a');
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
      ['/public/..;/orders/1', '/orders/1'],
      ['/orders;jsessionid=1/1;v=2', '/orders/1'],
      ['/files/secret.txt;.pdf', '/files/secret.txt'],
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
      // HTTP drops spaces around a header value: encoded, " admin" cannot reach upstreams as "admin".
      expect(claimHeaders({ sub: ' admin' }, mappings)['x-user-id']).toBe('%20admin');
      expect(claimHeaders({ sub: 'a b ' }, mappings)['x-user-id']).toBe('a b%20');
    });

    it('leaves out values over the length cap rather than cutting them', () => {
      expect(claimHeaders({ sub: 'x'.repeat(MAX_CLAIM_HEADER_LENGTH) }, mappings)['x-user-id']).toHaveLength(MAX_CLAIM_HEADER_LENGTH);
      expect(claimHeaders({ sub: 'x'.repeat(MAX_CLAIM_HEADER_LENGTH + 1) }, mappings)).toEqual({});
      expect(claimHeaders({ sub: 'é'.repeat(MAX_CLAIM_HEADER_LENGTH / 2) }, mappings)).toEqual({});
    });
  });
});
