import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './config-error';
import { loadConfig } from './load-config';
import { fastifyTrustProxy, parseTrustProxy } from './trust-proxy';

const baseEnv = {
  NODE_ENV: 'test',
  DATA_DIR: mkdtempSync(join(tmpdir(), 'tessera-tp-')),
  ADMIN_API_KEY: 'a'.repeat(40),
  KEY_ENCRYPTION_KEY: 'b'.repeat(64),
  DATABASE_URL: 'postgres://x@127.0.0.1/x',
};

describe('TRUST_PROXY', () => {
  it('takes false, true, a hop count, or addresses/CIDRs as Fastify trustProxy does', () => {
    expect(parseTrustProxy('false')).toEqual({ value: false });
    expect(parseTrustProxy('true')).toEqual({ value: true });
    expect(parseTrustProxy('1')).toEqual({ value: 1 });
    expect(parseTrustProxy(' 10.0.0.0/8, 127.0.0.1 ,::1,fd00::/8,loopback,192.168.0.0/255.255.0.0')).toEqual({
      value: ['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8', 'loopback', '192.168.0.0/255.255.0.0'],
    });
    for (const bad of ['yes', '10.0.0.0/33', '::1/129', 'proxy.internal', '1.2.3', '101', ',', '10.0.0.1/x']) {
      expect({ bad, parsed: parseTrustProxy(bad) }).toEqual({ bad, parsed: { error: expect.stringMatching(/^must be/) } });
    }
  });

  it('is false by default, warns about true, and stops start-up with one line for a bad value', () => {
    expect(loadConfig(baseEnv).config.trustProxy).toBe(false);
    expect(loadConfig({ ...baseEnv, TRUST_PROXY: '2' }).config.trustProxy).toBe(2);
    expect(loadConfig({ ...baseEnv, TRUST_PROXY: '10.1.2.3' }).config.trustProxy).toEqual(['10.1.2.3']);
    expect(loadConfig({ ...baseEnv, TRUST_PROXY: 'true' }).warnings).toEqual([
      expect.stringMatching(/^TRUST_PROXY=true takes the client IP from the left-most X-Forwarded-For entry/),
    ]);
    expect(() => loadConfig({ ...baseEnv, TRUST_PROXY: 'nginx' })).toThrow(ConfigError);
    try {
      loadConfig({ ...baseEnv, TRUST_PROXY: 'nginx' });
    } catch (error) {
      expect((error as ConfigError).lines).toEqual([
        expect.stringMatching(/^Invalid configuration: TRUST_PROXY must be false, a hop count .*"nginx" is not an address or CIDR/),
      ]);
    }
  });

  it('hands Fastify a hop count as a function (Fastify 5.12.8 reads a plain number as "trust nothing")', () => {
    const hops = fastifyTrustProxy(2) as (address: string, hop: number) => boolean;
    expect([hops('10.0.0.1', 0), hops('10.0.0.2', 1), hops('10.0.0.3', 2)]).toEqual([true, true, false]);
    expect(fastifyTrustProxy(0)).toBe(false);
    expect(fastifyTrustProxy(['10.0.0.0/8'])).toEqual(['10.0.0.0/8']);
    expect(fastifyTrustProxy(true)).toBe(true);
  });
});
