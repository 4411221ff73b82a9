import { createHmac, randomBytes } from 'node:crypto';
import { hashSecret } from '../auth/api-key-format';

/**
 * Refresh tokens look like `trt_<43 base64url chars>`: 256 bits. The first of a family is
 * random; every later one is HMAC-SHA256(server secret, parent token), so a retry within the
 * reuse grace window can be answered with the very same child without storing any token in
 * clear. Without the server secret a child cannot be computed from its parent. Only SHA-256
 * hashes are stored (a slow hash is pointless for 256 random bits).
 */
const PREFIX = 'trt_';
const PATTERN = /^trt_[A-Za-z0-9_-]{43}$/;

export function generateRefreshToken(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

export function deriveChildToken(parent: string, secret: Buffer): string {
  return PREFIX + createHmac('sha256', secret).update(parent, 'utf8').digest('base64url');
}

export function isWellFormedRefreshToken(token: unknown): token is string {
  return typeof token === 'string' && PATTERN.test(token);
}

export const hashRefreshToken = hashSecret;
