import { randomBytes } from 'node:crypto';
import { deriveChildToken, generateRefreshToken, hashRefreshToken, isWellFormedRefreshToken } from './refresh-token-format';

describe('refresh token format', () => {
  const secret = randomBytes(32);

  describe('generateRefreshToken', () => {
    it('gives trt_ plus 256 random bits in base64url', () => {
      const token = generateRefreshToken();
      expect(token).toMatch(/^trt_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
      expect(generateRefreshToken()).not.toBe(token);
    });
  });

  describe('deriveChildToken', () => {
    it('is deterministic under one secret, differs under another, and is well formed', () => {
      const parent = generateRefreshToken();
      const child = deriveChildToken(parent, secret);
      expect(deriveChildToken(parent, secret)).toBe(child);
      expect(deriveChildToken(parent, randomBytes(32))).not.toBe(child);
      expect(deriveChildToken(child, secret)).not.toBe(child);
      expect(isWellFormedRefreshToken(child)).toBe(true);
    });
  });

  describe('isWellFormedRefreshToken', () => {
    it('refuses anything else', () => {
      for (const bad of [
        '',
        'trt_',
        `trt_${'a'.repeat(42)}`,
        `trt_${'a'.repeat(44)}`,
        `tsk_${'a'.repeat(43)}`,
        `trt_${'a'.repeat(42)}=`,
        42,
        null,
      ]) {
        expect(isWellFormedRefreshToken(bad)).toBe(false);
      }
    });
  });

  describe('hashRefreshToken', () => {
    it('is SHA-256 (32 bytes) and not the token', () => {
      const token = generateRefreshToken();
      const hash = hashRefreshToken(token);
      expect(hash).toHaveLength(32);
      expect(hash.toString('base64url')).not.toContain(token.slice(4));
    });
  });
});
