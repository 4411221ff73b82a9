import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import { familyFitsAlgorithm, keyFamily } from './jws-algorithms';

describe('familyFitsAlgorithm', () => {
  const rsa = keyFamily(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
  const p256 = keyFamily(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
  const p384 = keyFamily(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey);
  const ed = keyFamily(generateKeyPairSync('ed25519').publicKey);
  const secret = keyFamily(createSecretKey(Buffer.alloc(32, 7)));

  it('recognises key families', () => {
    expect([rsa, p256, p384, ed, secret]).toEqual(['rsa', 'ec-P-256', 'ec-P-384', 'ed25519', 'secret']);
  });

  it('lets each key verify only the algorithms of its type', () => {
    expect(familyFitsAlgorithm(rsa, 'RS256')).toBe(true);
    expect(familyFitsAlgorithm(rsa, 'PS512')).toBe(true);
    expect(familyFitsAlgorithm(p256, 'ES256')).toBe(true);
    expect(familyFitsAlgorithm(secret, 'HS384')).toBe(true);
    expect(familyFitsAlgorithm(ed, 'EdDSA')).toBe(true);
  });

  it('refuses key confusion and curve mismatches', () => {
    expect(familyFitsAlgorithm(rsa, 'HS256')).toBe(false);
    expect(familyFitsAlgorithm(secret, 'RS256')).toBe(false);
    expect(familyFitsAlgorithm(p256, 'ES384')).toBe(false);
    expect(familyFitsAlgorithm(p384, 'ES256')).toBe(false);
    expect(familyFitsAlgorithm(rsa, 'ES256')).toBe(false);
    expect(familyFitsAlgorithm(ed, 'ES256')).toBe(false);
    expect(familyFitsAlgorithm(rsa, 'EdDSA')).toBe(false);
    expect(familyFitsAlgorithm(rsa, 'none')).toBe(false);
  });
});
