// Local token material for the guard and forward-auth scenarios: an RSA key, a JWKS served by
// node:http on 127.0.0.1, RS256 tokens signed with node:crypto, and files of tokens for the
// load worker (`tokensFile`). Nothing here talks to Tessera.
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const b64 = (value) => Buffer.from(value).toString('base64url');

/** An RSA-2048 key pair with its public JWK (kid, alg RS256, use sig). */
export function rsaKey(kid = randomUUID()) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    kid,
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }),
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' },
  };
}

/** `header.payload.signature`, RS256 with node:crypto. */
export function signRs256(header, payload, privateKey) {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

/** `count` distinct tokens: claims(i) gives each token's payload (a distinct jti/sub makes it distinct). */
export function signMany(count, header, claims, privateKey) {
  const tokens = new Array(count);
  for (let i = 0; i < count; i++) tokens[i] = signRs256(header, claims(i), privateKey);
  return tokens;
}

const written = new Set();
process.once('exit', () => {
  for (const file of written) rmSync(file, { force: true });
});

/** Writes one token per line to a temporary file (removed when the bench process exits) and returns its path. */
export function writeTokens(name, tokens) {
  const file = join(tmpdir(), `tessera-bench-${process.pid}-${name}.txt`);
  writeFileSync(file, `${tokens.join('\n')}\n`);
  written.add(file);
  return file;
}

/** Serves {keys:[jwk…]} at /.well-known/jwks.json on 127.0.0.1; `url` is the base URL (the issuer). */
export async function startJwksServer(jwks) {
  const body = JSON.stringify({ keys: jwks });
  let fetches = 0;
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/.well-known/jwks.json') {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' }).end(body);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    jwksUri: `${url}/.well-known/jwks.json`,
    get fetches() {
      return fetches;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Runs `task(i)` for i < count with at most `limit` in flight; rejects on the first failure. */
export async function pool(count, limit, task) {
  const results = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}
