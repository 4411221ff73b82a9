import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config-error';
import { loadConfig } from '../load-config';
import { parseClaimHeaders, parseForwardAuthRules } from './forward-auth-config';
import { parseForwardedSource } from './forwarded-source';

const dir = mkdtempSync(join(tmpdir(), 'tessera-fa-'));
const baseEnv = {
  NODE_ENV: 'test',
  DATA_DIR: dir,
  ADMIN_API_KEY: 'a'.repeat(40),
  KEY_ENCRYPTION_KEY: 'b'.repeat(64),
  DATABASE_URL: 'postgres://x@127.0.0.1/x',
};

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

    it.each(['sub', ':x-user', 'sub:x user', 'sub:x-a,jti:x-a', 'sub:content-length', 'sub:set-cookie', 'su b:x-a'])(
      'refuses %p',
      (text) => {
        expect(() => parseClaimHeaders(text)).toThrow();
      },
    );
  });

  describe('parseForwardAuthRules', () => {
    it('compiles rules: method upper-cased, missing method is *, empty scopes allowed', () => {
      const rules = parseForwardAuthRules([
        { method: 'get', path: '/orders/*', scopes: ['orders:read'] },
        { path: '/health', scopes: [] },
      ]);
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
      [
        [
          { method: 'GET', path: '/a', scopes: [] },
          { method: 'GET', path: '/a', scope: [] },
        ],
        /rule 1 has an unknown field "scope"/,
      ],
      [[{ method: 'GET', path: '/a' }], /rule 0: scopes must be an array/],
      [[{ method: 'GET', path: '/a**', scopes: [] }], /rule 0: path "\*\*" must be a whole segment/],
      [[{ method: 'GET', path: '/a//b', scopes: [] }], /rule 0: path must be a normalised path/],
      [[{ method: 'GET', path: '/a/../b', scopes: [] }], /rule 0: path must be a normalised path/],
      [[], /holds no rule: every path would be refused/],
    ])('refuses %j', (value, message) => {
      expect(() => parseForwardAuthRules(value)).toThrow(message);
    });
  });

  describe('loadConfig', () => {
    it('uses the default claim headers, no rules and the nginx source (X-Original-*)', () => {
      const { config } = loadConfig(baseEnv);
      expect(config.forwardAuth).toEqual({
        cookieName: undefined,
        claimHeaders: parseClaimHeaders('sub:x-user-id,tenant_id:x-tenant-id,scope:x-scope,client_id:x-client-id'),
        rules: [],
        source: {
          name: 'nginx',
          pathForm: false,
          methodHeader: 'x-original-method',
          uriHeader: 'x-original-uri',
          protoHeader: 'x-forwarded-proto',
          hostHeader: 'x-forwarded-host',
        },
      });
    });

    it('reads FORWARD_AUTH_SOURCE: nginx, traefik, envoy or headers:…, and refuses anything else with one line', () => {
      expect(loadConfig({ ...baseEnv, FORWARD_AUTH_SOURCE: 'traefik' }).config.forwardAuth.source).toMatchObject({
        methodHeader: 'x-forwarded-method',
        uriHeader: 'x-forwarded-uri',
      });
      expect(loadConfig({ ...baseEnv, FORWARD_AUTH_SOURCE: 'envoy' }).config.forwardAuth.source).toMatchObject({
        pathForm: true,
        hostHeader: 'host',
      });
      expect(loadConfig({ ...baseEnv, FORWARD_AUTH_SOURCE: 'headers:X-Method, X-Path' }).config.forwardAuth.source).toEqual({
        name: 'headers:x-method,x-path',
        pathForm: false,
        methodHeader: 'x-method',
        uriHeader: 'x-path',
        protoHeader: 'x-forwarded-proto',
        hostHeader: 'x-forwarded-host',
      });
      expect(parseForwardedSource('headers:a,b,c,d')).toMatchObject({ protoHeader: 'c', hostHeader: 'd' });
      for (const bad of [
        'caddy',
        'headers:x-method',
        'headers:x-a,x-a',
        'headers:authorization,x-uri',
        'headers:x a,x-b',
        'headers:a,b,c',
      ]) {
        expect(configError({ FORWARD_AUTH_SOURCE: bad })).toEqual([
          expect.stringMatching(/^Invalid configuration: FORWARD_AUTH_SOURCE must be nginx, traefik, envoy or headers:/),
        ]);
      }
    });

    it('reads the cookie name, the headers and a rules file', () => {
      const file = join(dir, 'rules.json');
      writeFileSync(file, JSON.stringify([{ method: 'GET', path: '/orders/*', scopes: ['orders:read'] }]));
      const { config } = loadConfig({
        ...baseEnv,
        FORWARD_AUTH_COOKIE: 'session',
        FORWARD_AUTH_HEADERS: 'sub:x-sub',
        FORWARD_AUTH_RULES_FILE: file,
      });
      expect(config.forwardAuth.cookieName).toBe('session');
      expect(config.forwardAuth.claimHeaders).toEqual([{ claim: 'sub', header: 'x-sub' }]);
      expect(config.forwardAuth.rules).toHaveLength(1);
    });

    it('stops with one clear line for a bad rules file, header mapping or cookie name', () => {
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, '[{"method": "GET", "path": "orders"}]');
      const notJson = join(dir, 'not.json');
      writeFileSync(notJson, '[{');
      expect(configError({ FORWARD_AUTH_RULES_FILE: bad })).toEqual([
        expect.stringMatching(/^Invalid configuration: FORWARD_AUTH_RULES_FILE rule 0: path must be/),
      ]);
      expect(configError({ FORWARD_AUTH_RULES_FILE: notJson })).toEqual([
        `Invalid configuration: FORWARD_AUTH_RULES_FILE is not valid JSON (${notJson})`,
      ]);
      expect(configError({ FORWARD_AUTH_RULES_FILE: join(dir, 'missing.json') })).toEqual([
        expect.stringMatching(/^Invalid configuration: FORWARD_AUTH_RULES_FILE cannot be read \(ENOENT/),
      ]);
      expect(configError({ FORWARD_AUTH_HEADERS: 'sub' })).toEqual([
        expect.stringMatching(/^Invalid configuration: FORWARD_AUTH_HEADERS entry "sub" must be claim:header-name/),
      ]);
      expect(configError({ FORWARD_AUTH_COOKIE: 'a b' })).toEqual([
        expect.stringMatching(/^Invalid configuration: FORWARD_AUTH_COOKIE must be a cookie name/),
      ]);
    });
  });
});
