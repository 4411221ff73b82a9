import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './config-error';
import { loadOrCreateSecrets, secretsFile } from './secrets';

describe('loadOrCreateSecrets', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tessera-secrets-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the missing secrets once, in a 0600 file, and keeps them on the next call', () => {
    const first = loadOrCreateSecrets(join(dir, 'data'), ['ADMIN_API_KEY', 'EMBEDDED_POSTGRES_PASSWORD']);
    expect(first.created).toEqual(['ADMIN_API_KEY', 'EMBEDDED_POSTGRES_PASSWORD']);
    expect(statSync(secretsFile(join(dir, 'data'))).mode & 0o777).toBe(0o600);
    const second = loadOrCreateSecrets(join(dir, 'data'), ['ADMIN_API_KEY', 'EMBEDDED_POSTGRES_PASSWORD']);
    expect(second).toEqual({ secrets: first.secrets, created: [] });
  });

  it('refuses a DATA_DIR that is a file with one line saying what to do', () => {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    const error = catchError(() => loadOrCreateSecrets(file, ['ADMIN_API_KEY']));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).lines).toEqual([
      expect.stringMatching(/^DATA_DIR .*file cannot be used \(not a directory, E[A-Z]+\): set DATA_DIR to a directory/),
    ]);
  });

  it('refuses a secrets.json that is not JSON with one line, never echoing its content', () => {
    writeFileSync(secretsFile(dir), '{"ADMIN_API_KEY": "tsa_admin_secret-value"');
    const error = catchError(() => loadOrCreateSecrets(dir, ['ADMIN_API_KEY'])) as ConfigError;
    expect(error.lines).toHaveLength(1);
    expect(error.lines[0]).toMatch(/secrets\.json is not valid JSON: fix it, or remove it/);
    expect(error.lines[0]).not.toContain('secret-value');
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
