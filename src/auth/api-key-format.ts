import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Tenant API keys look like `tsk_<12 hex prefix>_<43 base64url chars>`: 6 + 32 random
 * bytes. The prefix is stored in clear to find the row and to let people tell keys
 * apart; the whole key is stored as SHA-256 only. A slow hash is not needed: the key
 * has 256 random bits, so there is nothing to brute-force (as GitHub and Stripe do).
 */
const PATTERN = /^tsk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface GeneratedApiKey {
  key: string;
  prefix: string;
  hash: Buffer;
}

export function generateApiKey(): GeneratedApiKey {
  const prefix = `tsk_${randomBytes(6).toString('hex')}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashSecret(key) };
}

/** The stored prefix of a well-formed key, or undefined. */
export function apiKeyPrefix(key: string): string | undefined {
  const match = PATTERN.exec(key);
  return match ? `tsk_${match[1]}` : undefined;
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Constant-time comparison of a presented secret with a stored SHA-256. */
export function secretMatches(presented: string, storedHash: Buffer): boolean {
  const hash = hashSecret(presented);
  return hash.length === storedHash.length && timingSafeEqual(hash, storedHash);
}
