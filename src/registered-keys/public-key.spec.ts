import { createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { jwkThumbprint, parsePublicKey, PublicKeyError, spkiFingerprint, storedKeyProblem } from './public-key';

const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ed25519 = generateKeyPairSync('ed25519');
const ed448 = generateKeyPairSync('ed448');

const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }) as string;
const jwkOf = (k: KeyObject) => k.export({ format: 'jwk' }) as Record<string, unknown>;

function refusal(input: Parameters<typeof parsePublicKey>[0]): string {
  try {
    parsePublicKey(input);
  } catch (error) {
    expect(error).toBeInstanceOf(PublicKeyError);
    return (error as Error).message;
  }
  throw new Error('expected the key to be refused');
}

describe('parsePublicKey', () => {
  it('reads an RSA SPKI PEM and derives the RFC 7638 thumbprint and the SPKI fingerprint', async () => {
    const parsed = parsePublicKey({ algorithm: 'RS256', publicKeyPem: spki(rsa2048.publicKey) });
    expect(parsed.kid).toBe(await calculateJwkThumbprint(jwkOf(rsa2048.publicKey) as never, 'sha256'));
    expect(parsed.publicJwk).toEqual({ kty: 'RSA', n: jwkOf(rsa2048.publicKey).n, e: 'AQAB' });
    expect(parsed.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(parsed.fingerprint).toBe(spkiFingerprint(rsa2048.publicKey));
    expect(parsed.keyObject.equals(rsa2048.publicKey)).toBe(true);
  });

  it('reads a PKCS#1 RSA PEM as the same key (same kid) for PS512', () => {
    const pkcs1 = rsa2048.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    expect(pkcs1).toContain('BEGIN RSA PUBLIC KEY');
    const fromPkcs1 = parsePublicKey({ algorithm: 'PS512', publicKeyPem: pkcs1 });
    expect(fromPkcs1.kid).toBe(parsePublicKey({ algorithm: 'RS256', publicKeyPem: spki(rsa2048.publicKey) }).kid);
  });

  it('reads EC and Ed25519 keys from JWK and PEM alike', async () => {
    for (const [algorithm, pair] of [
      ['ES256', p256],
      ['ES384', p384],
      ['EdDSA', ed25519],
    ] as const) {
      const fromJwk = parsePublicKey({ algorithm, jwk: jwkOf(pair.publicKey) });
      const fromPem = parsePublicKey({ algorithm, publicKeyPem: spki(pair.publicKey) });
      expect(fromJwk.kid).toBe(fromPem.kid);
      expect(fromJwk.kid).toBe(await calculateJwkThumbprint(jwkOf(pair.publicKey) as never, 'sha256'));
      expect(fromJwk.fingerprint).toBe(fromPem.fingerprint);
    }
    expect(parsePublicKey({ algorithm: 'EdDSA', jwk: jwkOf(ed25519.publicKey) }).publicJwk).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: jwkOf(ed25519.publicKey).x,
    });
  });

  it('accepts a JWK carrying matching alg, use and kid members and ignores the given kid', () => {
    const parsed = parsePublicKey({ algorithm: 'ES256', jwk: { ...jwkOf(p256.publicKey), alg: 'ES256', use: 'sig', kid: 'mine' } });
    expect(parsed.kid).toBe(jwkThumbprint(parsed.publicJwk));
    expect(parsed.kid).not.toBe('mine');
  });

  it('refuses private keys in PEM or JWK without quoting them', () => {
    const pkcs8 = rsa2048.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const pkcs1 = rsa2048.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    const sec1 = p256.privateKey.export({ type: 'sec1', format: 'pem' }) as string;
    for (const pem of [pkcs8, pkcs1, sec1]) {
      const message = refusal({ algorithm: 'RS256', publicKeyPem: pem });
      expect(message).toMatch(/private key/);
      expect(message).not.toContain(pem.split('\n')[1]);
    }
    const privateJwk = jwkOf(p256.privateKey);
    const message = refusal({ algorithm: 'ES256', jwk: privateJwk });
    expect(message).toMatch(/private key material/);
    expect(message).not.toContain(privateJwk.d as string);
    expect(refusal({ algorithm: 'RS256', jwk: { ...jwkOf(rsa2048.publicKey), p: 'AQAB' } })).toMatch(/private/);
    expect(refusal({ algorithm: 'RS256', jwk: { kty: 'oct', k: 'c2VjcmV0' } })).toMatch(/private/);
  });

  it('refuses RSA keys under 2048 bits', () => {
    expect(refusal({ algorithm: 'RS256', publicKeyPem: spki(rsa1024.publicKey) })).toBe(
      'RSA keys must have at least 2048 bits; this one has 1024',
    );
  });

  it('refuses a key whose type does not fit the algorithm', () => {
    expect(refusal({ algorithm: 'RS256', publicKeyPem: spki(p256.publicKey) })).toMatch(/RS256 needs an RSA key/);
    expect(refusal({ algorithm: 'ES256', jwk: jwkOf(p384.publicKey) })).toMatch(/ES256 needs an EC key on curve P-256/);
    expect(refusal({ algorithm: 'ES384', publicKeyPem: spki(p256.publicKey) })).toMatch(/P-384/);
    expect(refusal({ algorithm: 'EdDSA', publicKeyPem: spki(rsa2048.publicKey) })).toMatch(/Ed25519/);
    expect(refusal({ algorithm: 'EdDSA', publicKeyPem: spki(ed448.publicKey) })).toMatch(/Ed25519/);
    expect(refusal({ algorithm: 'ES256', publicKeyPem: spki(ed25519.publicKey) })).toMatch(/P-256/);
    expect(refusal({ algorithm: 'ES256', jwk: { ...jwkOf(p256.publicKey), alg: 'ES384' } })).toMatch(/jwk.alg does not match/);
  });

  it('refuses unsupported algorithms', () => {
    for (const algorithm of ['HS256', 'none', 'ES512', '']) {
      expect(refusal({ algorithm, publicKeyPem: spki(rsa2048.publicKey) })).toMatch(/^algorithm must be one of RS256/);
    }
  });

  it('refuses unreadable input and asks for exactly one of publicKeyPem or jwk', () => {
    const pem = spki(rsa2048.publicKey);
    expect(refusal({ algorithm: 'RS256' })).toBe('Send exactly one of publicKeyPem or jwk');
    expect(refusal({ algorithm: 'RS256', publicKeyPem: pem, jwk: jwkOf(rsa2048.publicKey) })).toBe(
      'Send exactly one of publicKeyPem or jwk',
    );
    expect(refusal({ algorithm: 'RS256', publicKeyPem: 'hello' })).toMatch(/one PEM block/);
    expect(refusal({ algorithm: 'RS256', publicKeyPem: pem + pem })).toMatch(/one PEM block/);
    expect(refusal({ algorithm: 'RS256', publicKeyPem: pem.replace(/[A-Za-z]{8}/, 'AAAAAAAA') })).toMatch(/not a readable public key/);
    expect(refusal({ algorithm: 'RS256', publicKeyPem: 'x'.repeat(10_001) })).toMatch(/at most 10000 characters/);
    expect(refusal({ algorithm: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' } })).toMatch(
      /jwk is not a readable public key/,
    );
    expect(refusal({ algorithm: 'ES256', jwk: [] })).toBe('jwk must be a JSON object');
    expect(refusal({ algorithm: 'ES256', jwk: { kty: 'XYZ' } })).toMatch(/kty/);
  });

  it('bounds RSA keys: modulus 2048 to 4096 bits, exponent odd from 3 to 2^32 - 1 (issue 17.2)', () => {
    const n = jwkOf(rsa2048.publicKey).n as string;
    const e = (v: bigint) =>
      Buffer.from(v.toString(16).padStart(Math.ceil(v.toString(16).length / 2) * 2, '0'), 'hex').toString('base64url');
    const withE = (v: bigint) => ({ algorithm: 'RS256', jwk: { kty: 'RSA', n, e: e(v) } });
    for (const ok of [3n, 17n, 65537n, 2n ** 32n - 1n]) expect(parsePublicKey(withE(ok)).kid).toHaveLength(43);
    expect(refusal(withE(65536n))).toMatch(/exponent must be odd and from 3 to 2\^32 - 1.*this one is 65536/);
    expect(refusal(withE(2n ** 32n + 1n))).toMatch(/this one is a 33-bit number/);
    expect(refusal(withE(2n ** 2047n + 1n))).toMatch(/this one is a 2048-bit number/);
    expect(storedKeyProblem({ kty: 'RSA', n, e: e(2n ** 2047n + 1n) } as never, 'RS256')).toMatch(/exponent/);
    expect(storedKeyProblem({ kty: 'RSA', n, e: 'AQAB' } as never, 'RS256')).toBeUndefined();
    const big = Buffer.alloc(513, 0xff).toString('base64url'); // 4104 bits
    expect(refusal({ algorithm: 'RS256', jwk: { kty: 'RSA', n: big, e: 'AQAB' } })).toMatch(/at most 4096 bits; this one has 4104/);
  });

  it('gives a key object that node:crypto accepts again from the stored JWK', () => {
    const parsed = parsePublicKey({ algorithm: 'ES384', jwk: jwkOf(p384.publicKey) });
    expect(createPublicKey({ key: parsed.publicJwk, format: 'jwk' }).equals(p384.publicKey)).toBe(true);
  });
});
