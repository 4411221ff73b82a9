import { apiKeyPrefix, generateApiKey, secretMatches } from './api-key-format';

describe('api-key-format', () => {
  describe('generateApiKey', () => {
    it('makes distinct 256-bit keys whose prefix is visible and whose hash verifies', () => {
      const a = generateApiKey();
      const b = generateApiKey();
      expect(a.key).not.toBe(b.key);
      expect(Buffer.from(a.key.slice(a.prefix.length + 1), 'base64url')).toHaveLength(32);
      expect(apiKeyPrefix(a.key)).toBe(a.prefix);
      expect(secretMatches(a.key, a.hash)).toBe(true);
      expect(secretMatches(b.key, a.hash)).toBe(false);
    });
  });

  describe('apiKeyPrefix', () => {
    it('refuses anything not shaped like a key', () => {
      expect(apiKeyPrefix('tsk_zz_abc')).toBeUndefined();
      expect(apiKeyPrefix(`tsk_0123456789ab_${'a'.repeat(42)}`)).toBeUndefined();
      expect(apiKeyPrefix(`tsk_0123456789ab_${'a'.repeat(43)}`)).toBe('tsk_0123456789ab');
    });
  });
});
