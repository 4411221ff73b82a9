import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { KeyDecryptionError, KeyEncryption, kekId } from './key-encryption';

describe('KeyEncryption', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const current = randomBytes(32);
  const previous = randomBytes(32);

  describe('encrypt / decrypt', () => {
    it('round-trips a private key under a fresh IV each time, tagged with the current key id', () => {
      const enc = new KeyEncryption(current);
      const a = enc.encrypt('kid-1', privateKey);
      const b = enc.encrypt('kid-1', privateKey);
      expect(a.iv.equals(b.iv)).toBe(false);
      expect(a.kekId).toBe(kekId(current));
      expect(enc.decrypt('kid-1', a).equals(privateKey)).toBe(true);
    });

    it('binds the ciphertext to its kid and refuses a tampered row', () => {
      const enc = new KeyEncryption(current);
      const stored = enc.encrypt('kid-1', privateKey);
      expect(() => enc.decrypt('kid-2', stored)).toThrow(KeyDecryptionError);
      const flipped = Buffer.from(stored.ciphertext);
      flipped[0] ^= 1;
      expect(() => enc.decrypt('kid-1', { ...stored, ciphertext: flipped })).toThrow('Signing key kid-1 could not be decrypted');
    });

    it('opens rows of a previous key and says which rows are stale', () => {
      const old = new KeyEncryption(previous).encrypt('kid-1', privateKey);
      const enc = new KeyEncryption(current, [previous]);
      expect(enc.isStale(old)).toBe(true);
      expect(enc.decrypt('kid-1', old).equals(privateKey)).toBe(true);
      expect(enc.isStale(enc.encrypt('kid-1', privateKey))).toBe(false);
    });

    it('names the missing key-encryption key without showing any key material', () => {
      const old = new KeyEncryption(previous).encrypt('kid-1', privateKey);
      let message = '';
      try {
        new KeyEncryption(current).decrypt('kid-1', old);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/not configured \(id [0-9a-f]{16}\): set KEY_ENCRYPTION_KEY to the key used before/);
      expect(message).not.toContain(previous.toString('hex'));
      expect(message).not.toContain(current.toString('hex'));
    });
  });
});
