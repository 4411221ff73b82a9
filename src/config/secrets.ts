import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config-error';

/** Secrets Tessera may generate for itself outside production. */
export interface GeneratedSecrets {
  ADMIN_API_KEY?: string;
  KEY_ENCRYPTION_KEY?: string;
  EMBEDDED_POSTGRES_PASSWORD?: string;
}

const FILE_NAME = 'secrets.json';

export function secretsFile(dataDir: string): string {
  return join(dataDir, FILE_NAME);
}

/**
 * Returns the secrets kept in the data directory, creating the missing ones.
 * The file is written with mode 0600; `created` names the secrets made by this call
 * so that start-up can warn once.
 */
export function loadOrCreateSecrets(
  dataDir: string,
  wanted: (keyof GeneratedSecrets)[],
): { secrets: GeneratedSecrets; created: (keyof GeneratedSecrets)[] } {
  const path = secretsFile(dataDir);
  const secrets = readSecrets(dataDir, path);
  const created: (keyof GeneratedSecrets)[] = [];
  for (const name of wanted) {
    if (secrets[name]) continue;
    secrets[name] = name === 'ADMIN_API_KEY' ? `tsa_admin_${randomBytes(32).toString('base64url')}` : randomBytes(32).toString('hex');
    created.push(name);
  }
  if (created.length > 0) {
    try {
      mkdirSync(dataDir, { recursive: true, mode: 0o755 });
      writeFileSync(path, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
      chmodSync(path, 0o600);
    } catch (error) {
      throw unusable(dataDir, error);
    }
  }
  return { secrets, created };
}

function readSecrets(dataDir: string, path: string): GeneratedSecrets {
  let text: string;
  try {
    if (!existsSync(path)) return {};
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw unusable(dataDir, error);
  }
  try {
    return JSON.parse(text) as GeneratedSecrets;
  } catch {
    throw new ConfigError([`${path} is not valid JSON: fix it, or remove it (and DATA_DIR/postgres with it) to generate new secrets.`]);
  }
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'not a directory',
  ENOTDIR: 'not a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left',
};

/** One line that names DATA_DIR, the reason (errno code, never a secret) and what to do. */
function unusable(dataDir: string, error: unknown): ConfigError {
  const code = (error as NodeJS.ErrnoException)?.code ?? 'error';
  const reason = REASONS[code] ? `${REASONS[code]}, ${code}` : code;
  return new ConfigError([
    `DATA_DIR ${dataDir} cannot be used (${reason}): set DATA_DIR to a directory this user can create and write, ` +
      'or unset it to use ./.tessera.',
  ]);
}
