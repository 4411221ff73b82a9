import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, CompactSign } from 'jose';
import { KeyProofError, verifyKeyProof } from './key-proof';

const TENANT = '5b0c3d1e-8f1a-4c47-9d0e-1f2a3b4c5d6e';
const NOW = 1_796_119_200;

async function proofWithJose(
  alg: string,
  privateKey: import('node:crypto').KeyObject,
  payload: Record<string, unknown>,
  typ = 'tessera-key-proof+jwt',
) {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg, typ }).sign(privateKey);
}

describe('verifyKeyProof', () => {
  it.each([
    ['RS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['PS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['ES256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['ES384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' })],
    ['EdDSA', () => generateKeyPairSync('ed25519')],
  ])('accepts a %s proof made with jose, as a tenant backend would', async (alg, pair) => {
    const { publicKey, privateKey } = pair();
    const jkt = await calculateJwkThumbprint(publicKey.export({ format: 'jwk' }) as never, 'sha256');
    const proof = await proofWithJose(alg, privateKey, { tenant_id: TENANT, jkt, iat: NOW - 10 });
    expect(() => verifyKeyProof(proof, { tenantId: TENANT, jkt, algorithm: alg, keyObject: publicKey }, NOW)).not.toThrow();
  });

  it('refuses another tenant, another key, a stale or future iat, and another typ', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const jkt = await calculateJwkThumbprint(publicKey.export({ format: 'jwk' }) as never, 'sha256');
    const subject = { tenantId: TENANT, jkt, algorithm: 'EdDSA', keyObject: publicKey };
    const refusal = async (payload: Record<string, unknown>, typ?: string) => {
      try {
        verifyKeyProof(await proofWithJose('EdDSA', privateKey, { tenant_id: TENANT, jkt, iat: NOW, ...payload }, typ), subject, NOW);
        return 'accepted';
      } catch (error) {
        expect(error).toBeInstanceOf(KeyProofError);
        return (error as Error).message;
      }
    };
    expect(await refusal({ tenant_id: '00000000-0000-4000-8000-000000000000' })).toMatch(/tenant_id/);
    expect(await refusal({ jkt: 'A'.repeat(43) })).toMatch(/jkt/);
    expect(await refusal({ iat: NOW - 301 })).toMatch(/within 300 s/);
    expect(await refusal({ iat: NOW + 301 })).toMatch(/within 300 s/);
    expect(await refusal({ iat: NOW - 300 })).toBe('accepted');
    expect(await refusal({}, 'JWT')).toMatch(/typ/);
    expect(await refusal({ exp: NOW + 60 })).toMatch(/exactly/);
  });
});
