import { createHash, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, SignJWT } from 'jose';
import { DpopError } from './dpop-error';
import { normalizeHtu } from './dpop-htu';
import { accessTokenHash, verifyDpopProof } from './dpop-proof';
import { DpopProofVerifier } from './dpop-proof-verifier';
import { jwkThumbprint } from './jwk-thumbprint';

const URL_ = 'https://api.example.com/orders/1';
const TOKEN = 'header.payload.signature';

interface Keys {
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

function keys(type: 'ec' | 'ed25519' | 'rsa' = 'ec'): Keys {
  const pair =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  return { privateKey: pair.privateKey, publicJwk: pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown> };
}

const ec = keys('ec');

async function proof(
  k: Keys = ec,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  alg = k === ec || k.publicJwk.kty === 'EC' ? 'ES256' : k.publicJwk.kty === 'RSA' ? 'PS256' : 'EdDSA',
): Promise<string> {
  return new SignJWT({ htm: 'GET', htu: URL_, jti: `jti-${Math.random()}`, iat: Math.floor(Date.now() / 1000), ...claims })
    .setProtectedHeader({ typ: 'dpop+jwt', alg, jwk: k.publicJwk, ...header } as never)
    .sign(k.privateKey);
}

const expectInvalid = (fn: () => unknown, message: RegExp) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DpopError);
    expect((error as DpopError).error).toBe('invalid_dpop_proof');
    expect((error as DpopError).message).toMatch(message);
    return;
  }
  throw new Error('expected a refusal');
};

describe('jwkThumbprint', () => {
  it("is the RFC 7638 thumbprint (the RFC's own example, and jose on EC and OKP keys)", async () => {
    // RFC 7638 §3.1.
    const rfc = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    expect(jwkThumbprint(rfc)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
    for (const k of [ec, keys('ed25519')]) expect(jwkThumbprint(k.publicJwk)).toBe(await calculateJwkThumbprint(k.publicJwk as never));
  });
});

describe('normalizeHtu', () => {
  it('drops query and fragment and normalises case, default port, dot segments and percent-encoding (RFC 9449 §4.3)', () => {
    expect(normalizeHtu('HTTPS://API.Example.COM:443/a/./b/../c?x=1#f')).toBe('https://api.example.com/a/c');
    expect(normalizeHtu('https://api.example.com/%7euser/%2f')).toBe('https://api.example.com/~user/%2F');
    expect(normalizeHtu('http://h:80')).toBe('http://h/');
    expect(normalizeHtu('https://h:8443/x')).toBe('https://h:8443/x');
    expect(normalizeHtu('/relative')).toBeUndefined();
    expect(normalizeHtu('ftp://h/x')).toBeUndefined();
  });
});

describe('verifyDpopProof', () => {
  it('accepts a fresh proof for this request (ES256, PS256, EdDSA) and answers the key thumbprint', async () => {
    for (const k of [ec, keys('rsa'), keys('ed25519')]) {
      const verified = verifyDpopProof(await proof(k, { ath: accessTokenHash(TOKEN) }), {
        method: 'GET',
        url: `${URL_}?page=2`,
        accessToken: TOKEN,
        jkt: jwkThumbprint(k.publicJwk),
      });
      expect(verified.jkt).toBe(jwkThumbprint(k.publicJwk));
    }
  });

  it('computes ath as base64url(SHA-256(token))', () => {
    expect(accessTokenHash(TOKEN)).toBe(createHash('sha256').update(TOKEN).digest('base64url'));
  });

  it('refuses another method or another URL', async () => {
    const p = await proof();
    expectInvalid(() => verifyDpopProof(p, { method: 'POST', url: URL_ }), /htm/);
    expectInvalid(() => verifyDpopProof(p, { method: 'GET', url: 'https://api.example.com/orders/2' }), /htu/);
    expectInvalid(() => verifyDpopProof(p, { method: 'GET', url: 'https://evil.example.com/orders/1' }), /htu/);
  });

  it('refuses a stale or future iat', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectInvalid(() => verifyDpopProof(undefined, { method: 'GET', url: URL_ }), /required/);
    const stale = await proof(ec, { iat: now - 120 });
    expectInvalid(() => verifyDpopProof(stale, { method: 'GET', url: URL_ }), /too old/);
    const future = await proof(ec, { iat: now + 60 });
    expectInvalid(() => verifyDpopProof(future, { method: 'GET', url: URL_ }), /future/);
  });

  it('refuses a wrong ath, a missing ath, and a key other than the bound one', async () => {
    const other = keys();
    expectInvalid(() => verifyDpopProof(undefined as never, { method: 'GET', url: URL_ }), /required/);
    const wrongAth = await proof(ec, { ath: accessTokenHash('another.token.value') });
    expectInvalid(() => verifyDpopProof(wrongAth, { method: 'GET', url: URL_, accessToken: TOKEN }), /ath does not match/);
    const noAth = await proof();
    expectInvalid(() => verifyDpopProof(noAth, { method: 'GET', url: URL_, accessToken: TOKEN }), /ath/);
    const byOther = await proof(other, { ath: accessTokenHash(TOKEN) });
    expectInvalid(
      () => verifyDpopProof(byOther, { method: 'GET', url: URL_, accessToken: TOKEN, jkt: jwkThumbprint(ec.publicJwk) }),
      /not signed with the key/,
    );
  });

  it('refuses a proof whose signature is not by the embedded key', async () => {
    const other = keys();
    // Signed by `other`, but claiming ec's public key.
    const forged = await new SignJWT({ htm: 'GET', htu: URL_, jti: 'x', iat: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: ec.publicJwk as never })
      .sign(other.privateKey);
    expectInvalid(() => verifyDpopProof(forged, { method: 'GET', url: URL_ }), /signature/);
  });

  it('refuses a private key in jwk, alg none and HS256, a wrong typ, and keys by reference', async () => {
    const privateJwk = (await exportJWK(ec.privateKey)) as Record<string, unknown>;
    const withPrivate = await proof({ privateKey: ec.privateKey, publicJwk: privateJwk });
    expectInvalid(() => verifyDpopProof(withPrivate, { method: 'GET', url: URL_ }), /private key material/);

    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const claims = b64({ htm: 'GET', htu: URL_, jti: 'n', iat: Math.floor(Date.now() / 1000) });
    const none = `${b64({ typ: 'dpop+jwt', alg: 'none', jwk: ec.publicJwk })}.${claims}.AA`;
    expectInvalid(() => verifyDpopProof(none, { method: 'GET', url: URL_ }), /alg must be one of/);
    const hs = await new SignJWT({ htm: 'GET', htu: URL_, jti: 'h', iat: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: 'c2VjcmV0' } } as never)
      .sign(new TextEncoder().encode('a-shared-secret-of-at-least-32-bytes!'));
    expectInvalid(() => verifyDpopProof(hs, { method: 'GET', url: URL_ }), /alg must be one of/);

    const jwtTyped = await proof(ec, {}, { typ: 'JWT' });
    expectInvalid(() => verifyDpopProof(jwtTyped, { method: 'GET', url: URL_ }), /typ/);
    const withKid = await proof(ec, {}, { kid: 'k1' });
    expectInvalid(() => verifyDpopProof(withKid, { method: 'GET', url: URL_ }), /embedded jwk only/);
  });

  it('refuses an RSA key below 2048 bits', async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const small = { privateKey: pair.privateKey, publicJwk: pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown> };
    expectInvalid(() => verifyDpopProof(proofSync(small), { method: 'GET', url: URL_ }), /does not fit/);
  });
});

describe('DpopProofVerifier', () => {
  it('uses a jti once', async () => {
    const verifier = new DpopProofVerifier();
    const p = await proof();
    expect(verifier.verify(p, { method: 'GET', url: URL_ })).toBeDefined();
    expectInvalid(() => verifier.verify(p, { method: 'GET', url: URL_ }), /already used/);
  });

  it('asks for the server nonce when one is required, and never uses up the jti of a refused proof', async () => {
    const verifier = new DpopProofVerifier({ nonces: { check: (n) => n === 'n-1', current: () => 'n-1' } });
    const jti = 'same-jti';
    try {
      verifier.verify(await proof(ec, { jti }), { method: 'GET', url: URL_ });
      throw new Error('expected use_dpop_nonce');
    } catch (error) {
      expect((error as DpopError).error).toBe('use_dpop_nonce');
      expect((error as DpopError).nonce).toBe('n-1');
    }
    expect(verifier.verify(await proof(ec, { jti, nonce: 'n-1' }), { method: 'GET', url: URL_ })).toBeDefined();
  });

  it('waits for an asynchronous store and refuses what it has seen', async () => {
    const seen = new Set<string>();
    const verifier = new DpopProofVerifier({ jtiStore: { use: async (_jkt, jti) => !seen.has(jti) && !!seen.add(jti) } });
    const p = await proof();
    await expect(verifier.verify(p, { method: 'GET', url: URL_ })).resolves.toMatchObject({ jti: expect.any(String) });
    await expect(verifier.verify(p, { method: 'GET', url: URL_ })).rejects.toMatchObject({ error: 'invalid_dpop_proof' });
  });
});

function proofSync(k: Keys): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ typ: 'dpop+jwt', alg: 'RS256', jwk: k.publicJwk })}.${b64({ htm: 'GET', htu: URL_, jti: 'r', iat: Math.floor(Date.now() / 1000) })}`;
  return `${input}.${sign('sha256', Buffer.from(input), k.privateKey).toString('base64url')}`;
}
