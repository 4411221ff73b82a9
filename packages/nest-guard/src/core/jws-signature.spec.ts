import { constants, createHmac, createPublicKey, createSecretKey, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { TokenError } from '../token-errors';
import { verifyJwsSignature } from './jws-signature';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ed = generateKeyPairSync('ed25519');
const secret = createSecretKey(Buffer.alloc(32, 7));
const INPUT = 'eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJ4In0';
const data = Buffer.from(INPUT);

function codeOf(fn: () => void): string {
  try {
    fn();
    return 'valid';
  } catch (error) {
    return error instanceof TokenError ? error.code : 'thrown';
  }
}

describe('verifyJwsSignature (the one signature check)', () => {
  it('verifies each family with its own parameters', () => {
    const cases: Array<[string, Buffer, KeyObject]> = [
      ['HS256', createHmac('sha256', secret).update(data).digest(), secret],
      ['RS256', sign('sha256', data, rsa.privateKey), rsa.publicKey],
      ['RS512', sign('sha512', data, rsa.privateKey), rsa.publicKey],
      ['PS256', sign('sha256', data, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }), rsa.publicKey],
      ['PS384', sign('sha384', data, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }), rsa.publicKey],
      ['ES256', sign('sha256', data, { key: p256.privateKey, dsaEncoding: 'ieee-p1363' }), p256.publicKey],
      ['ES384', sign('sha384', data, { key: p384.privateKey, dsaEncoding: 'ieee-p1363' }), p384.publicKey],
      ['EdDSA', sign(null, data, ed.privateKey), ed.publicKey],
    ];
    for (const [alg, signature, key] of cases)
      expect([alg, codeOf(() => verifyJwsSignature(alg, key, INPUT, signature))]).toEqual([alg, 'valid']);
  });

  it('refuses PSS with a salt length other than the digest length, and PKCS#1 v1.5 under PS256', () => {
    const salt0 = sign('sha256', data, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 0 });
    expect(codeOf(() => verifyJwsSignature('PS256', rsa.publicKey, INPUT, salt0))).toBe('INVALID_SIGNATURE');
    expect(codeOf(() => verifyJwsSignature('PS256', rsa.publicKey, INPUT, sign('sha256', data, rsa.privateKey)))).toBe('INVALID_SIGNATURE');
  });

  it('refuses a DER-encoded ECDSA signature, r = s = 0, a signature of the wrong length and a wrong or truncated MAC', () => {
    expect(codeOf(() => verifyJwsSignature('ES256', p256.publicKey, INPUT, sign('sha256', data, p256.privateKey)))).toBe(
      'INVALID_SIGNATURE',
    );
    expect(codeOf(() => verifyJwsSignature('ES256', p256.publicKey, INPUT, Buffer.alloc(64)))).toBe('INVALID_SIGNATURE');
    expect(codeOf(() => verifyJwsSignature('ES256', p256.publicKey, INPUT, Buffer.alloc(0)))).toBe('INVALID_SIGNATURE');
    const mac = createHmac('sha256', secret).update(data).digest();
    expect(codeOf(() => verifyJwsSignature('HS256', secret, INPUT, mac.subarray(0, 16)))).toBe('INVALID_SIGNATURE');
    expect(codeOf(() => verifyJwsSignature('HS256', createSecretKey(Buffer.alloc(32, 8)), INPUT, mac))).toBe('INVALID_SIGNATURE');
  });

  it('refuses a key that does not fit the algorithm (type, curve, private, key confusion)', () => {
    const es = sign('sha256', data, { key: p256.privateKey, dsaEncoding: 'ieee-p1363' });
    expect(codeOf(() => verifyJwsSignature('ES256', rsa.publicKey, INPUT, es))).toBe('ALGORITHM_NOT_ALLOWED');
    expect(codeOf(() => verifyJwsSignature('ES384', p256.publicKey, INPUT, es))).toBe('ALGORITHM_NOT_ALLOWED');
    expect(codeOf(() => verifyJwsSignature('RS256', p256.publicKey, INPUT, es))).toBe('ALGORITHM_NOT_ALLOWED');
    expect(codeOf(() => verifyJwsSignature('EdDSA', rsa.publicKey, INPUT, es))).toBe('ALGORITHM_NOT_ALLOWED');
    expect(codeOf(() => verifyJwsSignature('RS256', rsa.privateKey, INPUT, es))).toBe('ALGORITHM_NOT_ALLOWED');
    expect(codeOf(() => verifyJwsSignature('HS256', rsa.publicKey, INPUT, es))).toBe('ALGORITHM_NOT_ALLOWED');
    expect(codeOf(() => verifyJwsSignature('RS256', secret, INPUT, es))).toBe('ALGORITHM_NOT_ALLOWED');
    expect(codeOf(() => verifyJwsSignature('none', rsa.publicKey, INPUT, es))).toBe('ALGORITHM_NOT_ALLOWED');
  });

  it('never runs the RSA operation for a key outside 2048–4096 bits or with a huge public exponent (issue 17.2)', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(codeOf(() => verifyJwsSignature('RS256', small.publicKey, INPUT, sign('sha256', data, small.privateKey)))).toBe(
      'ALGORITHM_NOT_ALLOWED',
    );
    // A 2048-bit modulus with a 2048-bit exponent (only a JWK can carry one): ~3 ms per check if it were run.
    const jwk = rsa.publicKey.export({ format: 'jwk' });
    const hugeE = createPublicKey({ key: { ...jwk, e: Buffer.alloc(256, 0xff).toString('base64url') }, format: 'jwk' });
    const evenE = createPublicKey({ key: { ...jwk, e: Buffer.from([1, 0, 0]).toString('base64url') }, format: 'jwk' });
    const signature = sign('sha256', data, rsa.privateKey);
    expect(codeOf(() => verifyJwsSignature('RS256', hugeE, INPUT, signature))).toBe('ALGORITHM_NOT_ALLOWED');
    expect(codeOf(() => verifyJwsSignature('RS256', evenE, INPUT, signature))).toBe('ALGORITHM_NOT_ALLOWED');
  });
});
