import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error';
import { loadConfig } from '../config/load-config';
import { globToRegExp, parseClaimHeaders, parseForwardAuthRules } from './forward-auth-config';

const dir = mkdtempSync(join(tmpdir(), 'tessera-fa-'));
const baseEnv = { NODE_ENV: 'test', DATA_DIR: dir, ADMIN_API_KEY: 'a'.repeat(40), KEY_ENCRYPTION_KEY: 'b'.repeat(64), DATABASE_URL: 'postgres://x@127.0.0.1/x' };

function configError(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...baseEnv, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.lines;
    throw error;
  }
  return [];
}

describe('forward-auth configuration', () => {
  describe('parseClaimHeaders', () => {
    it('reads claim:header pairs, lower-casing header names', () => {
      expect(parseClaimHeaders('sub:X-User-Id, groupRef:x-group-ref,urn:example:claim:x-urn')).toEqual([
        { claim: 'sub', header: 'x-user-id' },
        { claim: 'groupRef', header: 'x-group-ref' },
        { claim: 'urn:example:claim', header: 'x-urn' },
      ]);
    });

    it.each(['sub', ':x-user', 'sub:x user', 'sub:x-a,jti:x-a', 'sub:content-length', 'sub:set-cookie', 'su b:x-a'])('refuses %p', (text) => {
      expect(() => parseClaimHeaders(text)).toThrow();
    });
  });

  describe('parseForwardAuthRules', () => {
    it('compiles rules: method upper-cased, missing method is *, empty scopes allowed', () => {
      const rules = parseForwardAuthRules([{ method: 'get', path: '/orders/*', scopes: ['orders:read'] }, { path: '/health', scopes: [] }]);
      expect(rules.map(({ method, path, scopes }) => ({ method, path, scopes }))).toEqual([
        { method: 'GET', path: '/orders/*', scopes: ['orders:read'] },
        { method: '*', path: '/health', scopes: [] },
      ]);
    });

    it.each<[unknown, RegExp]>([
      [{}, /JSON array/],
      [[null], /rule 0 must be an object/],
      [[{ method: 'GET', path: 'orders', scopes: [] }], /rule 0: path/],
      [[{ method: 'GET', path: '/a?b=1', scopes: [] }], /rule 0: path/],
      [[{ method: 'G T', path: '/a', scopes: [] }], /rule 0: method/],
      [[{ method: 'GET', path: '/a', scopes: 'read' }], /rule 0: scopes/],
      [[{ method: 'GET', path: '/a', scopes: ['a b'] }], /rule 0: scopes/],
      [[{ method: 'GET', path: '/a', scopes: [] }, { method: 'GET', path: '/a', scope: [] }], /rule 1 has an unknown field "scope"/],
    ])('refuses %j', (value, message) => {
      expect(() => parseForwardAuthRules(value)).toThrow(message);
    });
  });

  describe('globToRegExp', () => {
    it('matches a trailing * as a prefix, ** across segments, another * within a segment, the rest literally', () => {
      const prefix = globToRegExp('/orders/*');
      expect(['/orders/1', '/orders/', '/orders/a.b', '/orders/1/items'].map((p) => prefix.test(p))).toEqual([true, true, true, true]);
      expect(['/orders', '/ordersX/1', '/x/orders/1'].map((p) => prefix.test(p))).toEqual([false, false, false]);
      const segment = globToRegExp('/orders/*/items');
      expect(['/orders/1/items', '/orders/1/2/items', '/orders/1/items/3'].map((p) => segment.test(p))).toEqual([true, false, false]);
      const deep = globToRegExp('/orders/**/items');
      expect(['/orders/1/items', '/orders/1/2/items'].map((p) => deep.test(p))).toEqual([true, true]);
      expect(globToRegExp('/a.b/(x)').test('/a.b/(x)')).toBe(true);
      expect(globToRegExp('/a.b').test('/aXb')).toBe(false);
      expect(globToRegExp('/exact').test('/exact/more')).toBe(false);
    });
  });

  describe('loadConfig', () => {
    it('uses the default claim headers and no rules', () => {
      const { config } = loadConfig(baseEnv);
      expect(config.forwardAuth).toEqual({
        cookieName: undefined,
        claimHeaders: parseClaimHeaders('sub:x-user-id,tenant_id:x-tenant-id,scope:x-scope,client_id:x-client-id'),
        rules: [],
      });
    });

    it('reads the cookie name, the headers and a rules file', () => {
      const file = join(dir, 'rules.json');
      writeFileSync(file, JSON.stringify([{ method: 'GET', path: '/orders/*', scopes: ['orders:read'] }]));
      const { config } = loadConfig({ ...baseEnv, FORWARD_AUTH_COOKIE: 'session', FORWARD_AUTH_HEADERS: 'sub:x-sub', FORWARD_AUTH_RULES_FILE: file });
      expect(config.forwardAuth.cookieName).toBe('session');
      expect(config.forwardAuth.claimHeaders).toEqual([{ claim: 'sub', header: 'x-sub' }]);
      expect(config.forwardAuth.rules).toHaveLength(1);
    });

    it('stops with one clear line for a bad rules file, header mapping or cookie name', () => {
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, '[{"method": "GET", "path": "orders"}]');
      const notJson = join(dir, 'not.json');
      writeFileSync(notJson, '[{');
      expect(configError({ FORWARD_AUTH_RULES_FILE: bad })).toEqual([expect.stringMatching(/^Invalid configuration: FORWARD_AUTH_RULES_FILE rule 0: path must be/)]);
      expect(configError({ FORWARD_AUTH_RULES_FILE: notJson })).toEqual([`Invalid configuration: FORWARD_AUTH_RULES_FILE is not valid JSON (${notJson})`]);
      expect(configError({ FORWARD_AUTH_RULES_FILE: join(dir, 'missing.json') })).toEqual([expect.stringMatching(/^Invalid configuration: FORWARD_AUTH_RULES_FILE cannot be read \(ENOENT/)]);
      expect(configError({ FORWARD_AUTH_HEADERS: 'sub' })).toEqual([expect.stringMatching(/^Invalid configuration: FORWARD_AUTH_HEADERS entry "sub" must be claim:header-name/)]);
      expect(configError({ FORWARD_AUTH_COOKIE: 'a b' })).toEqual([expect.stringMatching(/^Invalid configuration: FORWARD_AUTH_COOKIE must be a cookie name/)]);
    });
  });
});
