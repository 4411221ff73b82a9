import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
  const secrets: GeneratedSecrets = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
  const created: (keyof GeneratedSecrets)[] = [];
  for (const name of wanted) {
    if (secrets[name]) continue;
    secrets[name] =
      name === 'ADMIN_API_KEY' ? `tsa_admin_${randomBytes(32).toString('base64url')}` : randomBytes(32).toString('hex');
    created.push(name);
  }
  if (created.length > 0) {
    mkdirSync(dataDir, { recursive: true, mode: 0o755 });
    writeFileSync(path, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
    chmodSync(path, 0o600);
  }
  return { secrets, created };
}
