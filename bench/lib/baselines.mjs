// Single-core node:crypto signing rate, measured in a child process in the same run as the
// service, so ratios compare like with like on this machine at this moment.
import { spawn } from 'node:child_process';

const SCRIPT = `
const { generateKeyPairSync, sign } = require('node:crypto');
const alg = process.argv[1];
const seconds = Number(process.argv[2]);
const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
const input = Buffer.from('eyJhbGciOiJSUzI1NiIsImtpZCI6ImFiYyIsInR5cCI6ImF0K2p3dCJ9.' + 'x'.repeat(290));
const opts = alg === 'ES256' ? { key: pair.privateKey, dsaEncoding: 'ieee-p1363' } : pair.privateKey;
let n = 0;
const start = process.hrtime.bigint();
const end = start + BigInt(Math.round(seconds * 1e9));
let now = start;
while (now < end) { for (let i = 0; i < 20; i++) sign('sha256', input, opts); n += 20; now = process.hrtime.bigint(); }
// Divided by the time it really took (the last batch of 20 ends past the deadline).
process.stdout.write(String(n / (Number(now - start) / 1e9)));
`;

/** Signatures per second on one core for 'RS256' or 'ES256' over a ~340-byte JWT signing input. */
export function nodeSigningRate(alg, seconds) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', SCRIPT, alg, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`signing baseline failed (${code})`))));
  });
}
