import { constants, createHmac, generateKeyPairSync, KeyObject, randomUUID, sign } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for Tessera in guard tests and benchmarks: key pairs, a JWKS served over
 * node:http on 127.0.0.1 that counts its fetches, and a signer able to produce hostile tokens.
 */
export interface TestKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The JWK as published (with kid, alg and use). */
  jwk: Record<string, unknown>;
}

export function createTestKey(
  alg: 'RS256' | 'PS256' | 'ES256' | 'EdDSA' = 'RS256',
  kid: string = randomUUID(),
  publishAlg = true,
): TestKey {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk: Record<string, unknown> = { ...(pair.publicKey.export({ format: 'jwk' }) as object), kid, use: 'sig' };
  if (publishAlg) jwk.alg = alg;
  return { kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey, jwk };
}

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** Signs `header.payload` as given (no defaults, no checks), so tests can build any token. */
export function signJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown> | string,
  key: KeyObject | Buffer | string,
): string {
  const signingInput = `${b64(JSON.stringify(header))}.${b64(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;
  return `${signingInput}.${signatureOf(String(header.alg), signingInput, key).toString('base64url')}`;
}

function signatureOf(alg: string, input: string, key: KeyObject | Buffer | string): Buffer {
  if (alg === 'EdDSA') return sign(null, Buffer.from(input), key as KeyObject);
  const bits = alg.slice(2);
  const hash = `sha${bits}`;
  if (alg.startsWith('HS'))
    return createHmac(hash, key as Buffer | string | KeyObject)
      .update(input)
      .digest();
  if (alg.startsWith('RS')) return sign(hash, Buffer.from(input), key as KeyObject);
  if (alg.startsWith('PS'))
    return sign(hash, Buffer.from(input), {
      key: key as KeyObject,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(bits) / 8,
    });
  if (alg.startsWith('ES')) return sign(hash, Buffer.from(input), { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
  throw new Error(`signJwt: unsupported alg ${alg}`);
}

export interface TestIssuer {
  /** The issuer (`iss`) and the JWKS URL. */
  issuer: string;
  jwksUri: string;
  audience: string;
  /** Keys currently published; change it to rotate or remove keys. */
  published: TestKey[];
  /** Every JWKS request served (or refused while down). */
  fetches: number;
  /** Requests to any other path (e.g. a jku/x5u a token pointed at). */
  otherRequests: number;
  /** While true, the JWKS answers 503. */
  down: boolean;
  /** An access token signed with `key` (default: the first published key); claims and header override the defaults. */
  token(claims?: Record<string, unknown>, header?: Record<string, unknown>, key?: TestKey): string;
  close(): Promise<void>;
}

export async function startTestIssuer(options: { audience?: string; keys?: TestKey[] } = {}): Promise<TestIssuer> {
  const state = {
    issuer: '',
    jwksUri: '',
    audience: options.audience ?? 'https://api.example.test',
    published: options.keys ?? [createTestKey()],
    fetches: 0,
    otherRequests: 0,
    down: false,
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url !== '/.well-known/jwks.json') {
      state.otherRequests++;
      res.writeHead(404).end();
      return;
    }
    state.fetches++;
    if (state.down) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('down');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.published.map((k) => k.jwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.issuer = `http://127.0.0.1:${port}`;
  state.jwksUri = `${state.issuer}/.well-known/jwks.json`;

  return Object.assign(state, {
    token(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key?: TestKey): string {
      const signer = key ?? state.published[0];
      const now = Math.floor(Date.now() / 1000);
      return signJwt(
        { alg: signer.alg, kid: signer.kid, typ: 'at+jwt', ...header },
        {
          iss: state.issuer,
          sub: 'user-1',
          aud: state.audience,
          iat: now,
          nbf: now,
          exp: now + 300,
          jti: randomUUID(),
          scope: 'read',
          tenant_id: 'tenant-1',
          ...claims,
        },
        signer.privateKey,
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
