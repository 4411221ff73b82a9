import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './config-error';
import { loadConfig } from './load-config';

const dataDir = () => mkdtempSync(join(tmpdir(), 'tessera-config-'));
const base = () => ({ DATABASE_URL: 'postgres://u@127.0.0.1:5432/db', DATA_DIR: dataDir() });

function errorLines(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.lines;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults and derives issuer, audience and publish delay', () => {
    const { config } = loadConfig(base());
    expect(config.port).toBe(3000);
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(config.defaultAudience).toBe('http://localhost:3000');
    expect(config.verifyAudiences).toEqual(['http://localhost:3000']);
    expect(config.accessTokenTtlSeconds).toBe(600);
    expect(config.refreshTokenTtlSeconds).toBe(14 * 86400);
    expect(config.refreshReuseGraceSeconds).toBe(5);
    expect(config.signingAlgorithm).toBe('RS256');
    expect(config.keyPublishDelaySeconds).toBe(600 + 10);
    expect(config.clockToleranceSeconds).toBe(30);
  });

  it('parses durations and lists', () => {
    const { config } = loadConfig({
      ...base(),
      ACCESS_TOKEN_TTL: '5m',
      KEY_ROTATION_INTERVAL: '30d',
      VERIFY_AUDIENCES: 'a, b',
      PUBLIC_URL: 'https://auth.example.com/',
    });
    expect(config.accessTokenTtlSeconds).toBe(300);
    expect(config.keyRotationIntervalSeconds).toBe(30 * 86400);
    expect(config.verifyAudiences).toEqual(['a', 'b']);
    expect(config.publicUrl).toBe('https://auth.example.com');
  });

  it('names each bad variable and its rule on one line, without echoing secrets', () => {
    const lines = errorLines({
      ...base(),
      PORT: '70000',
      REFRESH_REUSE_GRACE_SECONDS: '61',
      ACCESS_TOKEN_TTL: 'soon',
      ADMIN_API_KEY: 'short-secret',
    });
    expect(lines).toHaveLength(4);
    expect(lines).toContain('Invalid configuration: PORT must be at most 65535 (got "70000")');
    expect(lines.find((l) => l.includes('REFRESH_REUSE_GRACE_SECONDS'))).toContain('must be at most 60');
    expect(lines.find((l) => l.includes('ACCESS_TOKEN_TTL'))).toContain('must be a duration');
    const admin = lines.find((l) => l.includes('ADMIN_API_KEY'))!;
    expect(admin).toContain('at least 32 characters');
    expect(admin).not.toContain('short-secret');
  });

  it('refuses a malformed KEY_ENCRYPTION_KEY', () => {
    expect(errorLines({ ...base(), KEY_ENCRYPTION_KEY: 'abc' })[0]).toMatch(/^Invalid configuration: KEY_ENCRYPTION_KEY must be 32 bytes/);
  });

  it('refuses ALLOW_INSECURE_ISSUERS_FOR_TESTS in production, and warns when it is on elsewhere', () => {
    const production = { ...base(), NODE_ENV: 'production', ADMIN_API_KEY: 'a'.repeat(32), KEY_ENCRYPTION_KEY: 'ab'.repeat(32) };
    expect(errorLines({ ...production, ALLOW_INSECURE_ISSUERS_FOR_TESTS: 'true' })).toEqual([
      expect.stringMatching(/^Invalid configuration: ALLOW_INSECURE_ISSUERS_FOR_TESTS cannot be true when NODE_ENV=production/),
    ]);
    expect(loadConfig(production).config.allowInsecureIssuersForTests).toBe(false);
    const { config, warnings } = loadConfig({ ...base(), NODE_ENV: 'test', ALLOW_INSECURE_ISSUERS_FOR_TESTS: 'true' });
    expect(config.allowInsecureIssuersForTests).toBe(true);
    expect(warnings.some((w) => w.includes('ALLOW_INSECURE_ISSUERS_FOR_TESTS'))).toBe(true);
  });

  it('requires ADMIN_API_KEY and KEY_ENCRYPTION_KEY in production', () => {
    expect(errorLines({ ...base(), NODE_ENV: 'production' })).toEqual([
      'Invalid configuration: ADMIN_API_KEY is required when NODE_ENV=production',
      'Invalid configuration: KEY_ENCRYPTION_KEY is required when NODE_ENV=production',
    ]);
  });

  it('generates missing secrets outside production, keeps them in DATA_DIR (0600) and warns once', () => {
    const env = base();
    const first = loadConfig(env);
    expect(first.warnings).toHaveLength(2);
    expect(first.warnings.join()).not.toContain(first.config.adminApiKey);
    const file = join(env.DATA_DIR, 'secrets.json');
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8')).ADMIN_API_KEY).toBe(first.config.adminApiKey);

    const second = loadConfig(env);
    expect(second.warnings).toEqual([]);
    expect(second.config.adminApiKey).toBe(first.config.adminApiKey);
    expect(second.config.keyEncryptionKey.equals(first.config.keyEncryptionKey)).toBe(true);
  });
});
