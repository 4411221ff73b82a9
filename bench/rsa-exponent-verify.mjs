// Cost of one RS256 signature check by RSA public exponent (issue 17.2, docs/adr/0012-registered-key-proof.md):
// a random signature still costs the full modular exponentiation. Run: node bench/rsa-exponent-verify.mjs
import { createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
const b64 = (v) => Buffer.from(v.toString(16).padStart(Math.ceil(v.toString(16).length / 2) * 2, '0'), 'hex').toString('base64url');
const n = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }).n;
const huge = BigInt('0x' + randomBytes(256).toString('hex')) | (1n << 2047n) | 1n;
const data = Buffer.from('x'.repeat(340));
for (const [name, e] of [
  ['e=65537', 65537n],
  ['e=2^32-1', 2n ** 32n - 1n],
  ['e=2048-bit', huge],
]) {
  const key = createPublicKey({ key: { kty: 'RSA', n, e: b64(e) }, format: 'jwk' });
  const sig = randomBytes(256);
  const N = name === 'e=2048-bit' ? 300 : 20000;
  for (let i = 0; i < 50; i++) verify('sha256', data, key, sig);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) verify('sha256', data, key, sig);
  const us = Number(process.hrtime.bigint() - t0) / 1000 / N;
  console.log(`${name}: ${us.toFixed(1)} µs per RS256 verify (${N} runs)`);
}
