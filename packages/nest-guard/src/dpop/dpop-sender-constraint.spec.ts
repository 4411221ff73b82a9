import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { BearerAuthException } from '../bearer-auth.exception';
import { JwtGuardService } from '../jwt-guard.service';
import { accessTokenHash } from './dpop-proof';
import { DpopSenderConstraint } from './dpop-sender-constraint';
import { jwkThumbprint } from './jwk-thumbprint';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const ORIGIN = 'https://api.example.com';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
const JKT = jwkThumbprint(jwk);

function guard(options: ConstructorParameters<typeof DpopSenderConstraint>[0] = {}) {
  return new JwtGuardService({
    issuers: [{ issuer: 'https://as.example.com', audience: 'api', algorithms: ['HS256'], secret: SECRET }],
    senderConstraint: new DpopSenderConstraint({ origin: ORIGIN, ...options }),
  });
}

function token(cnf?: Record<string, unknown>) {
  return new SignJWT({ sub: 'u1', ...(cnf ? { cnf } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setIssuer('https://as.example.com')
    .setAudience('api')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SECRET));
}

function proof(at: string, claims: Record<string, unknown> = {}) {
  return new SignJWT({
    htm: 'GET',
    htu: `${ORIGIN}/orders`,
    jti: `j-${Math.random()}`,
    iat: Math.floor(Date.now() / 1000),
    ath: accessTokenHash(at),
    ...claims,
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk } as never)
    .sign(privateKey);
}

const request = (authorization: string, dpop?: string, url = '/orders?page=1') => ({
  method: 'GET',
  url,
  headers: { authorization, ...(dpop ? { dpop } : {}) },
});

async function refusal(outcome: () => unknown): Promise<BearerAuthException> {
  try {
    await outcome();
  } catch (error) {
    expect(error).toBeInstanceOf(BearerAuthException);
    return error as BearerAuthException;
  }
  throw new Error('expected a refusal');
}

describe('DpopSenderConstraint in the guard', () => {
  it('accepts Authorization: DPoP with a fresh proof, on a miss and on a verified-cache hit', async () => {
    const g = guard();
    const at = await token({ jkt: JKT });
    await expect(g.authenticate(request(`DPoP ${at}`, await proof(at)))).resolves.toMatchObject({ sub: 'u1', cnf: { jkt: JKT } });
    // The hit path: same Authorization value, a new proof.
    await expect(Promise.resolve(g.authenticate(request(`DPoP ${at}`, await proof(at))))).resolves.toMatchObject({ sub: 'u1' });
  });

  it('refuses a replayed proof, also on a cache hit', async () => {
    const g = guard();
    const at = await token({ jkt: JKT });
    const p = await proof(at);
    await g.authenticate(request(`DPoP ${at}`, p));
    const error = await refusal(() => g.authenticate(request(`DPoP ${at}`, p)));
    expect(error.code).toBe('INVALID_DPOP_PROOF');
    expect(error.headers['www-authenticate']).toMatch(
      /^DPoP algs="[^"]*ES256[^"]*", error="invalid_dpop_proof", error_description="DPoP proof jti was already used/,
    );
  });

  it('refuses a bound token sent as Bearer, a missing proof, and an unbound token sent as DPoP', async () => {
    const g = guard();
    const bound = await token({ jkt: JKT });
    const asBearer = await refusal(() => g.authenticate(request(`Bearer ${bound}`)));
    expect(asBearer.code).toBe('INVALID_TOKEN_TYPE');
    expect(asBearer.headers['www-authenticate']).toMatch(/^DPoP algs=.*error="invalid_token"/);
    expect((await refusal(() => g.authenticate(request(`DPoP ${bound}`)))).code).toBe('INVALID_DPOP_PROOF');
    const unbound = await token();
    expect((await refusal(async () => g.authenticate(request(`DPoP ${unbound}`, await proof(unbound))))).code).toBe('INVALID_TOKEN_TYPE');
    // Unbound as Bearer still passes unless DPoP is required.
    await expect(Promise.resolve(g.authenticate(request(`Bearer ${unbound}`)))).resolves.toMatchObject({ sub: 'u1' });
    expect((await refusal(() => guard({ required: true }).authenticate(request(`Bearer ${unbound}`)))).code).toBe('INVALID_TOKEN_TYPE');
  });

  it('refuses a proof for another URL or method, and asks for the nonce when nonces are on', async () => {
    const g = guard();
    const at = await token({ jkt: JKT });
    expect(await refusal(async () => g.authenticate(request(`DPoP ${at}`, await proof(at), '/other')))).toMatchObject({
      code: 'INVALID_DPOP_PROOF',
    });
    expect(await refusal(async () => g.authenticate(request(`DPoP ${at}`, await proof(at, { htm: 'POST' }))))).toMatchObject({
      code: 'INVALID_DPOP_PROOF',
    });
    const withNonces = guard({ nonces: { check: (n) => n === 'n1', current: () => 'n1' } });
    const asked = await refusal(async () => withNonces.authenticate(request(`DPoP ${at}`, await proof(at))));
    expect(asked.code).toBe('USE_DPOP_NONCE');
    expect(asked.headers['dpop-nonce']).toBe('n1');
    expect(asked.headers['www-authenticate']).toMatch(/error="use_dpop_nonce"/);
    await expect(withNonces.authenticate(request(`DPoP ${at}`, await proof(at, { nonce: 'n1' })))).resolves.toMatchObject({ sub: 'u1' });
  });

  it('without a DPoP check, Authorization: DPoP is not read as a token', async () => {
    const plain = new JwtGuardService({
      issuers: [{ issuer: 'https://as.example.com', audience: 'api', algorithms: ['HS256'], secret: SECRET }],
    });
    const at = await token({ jkt: JKT });
    const p = await proof(at);
    await expect(Promise.resolve().then(() => plain.authenticate(request(`DPoP ${at}`, p)))).rejects.toMatchObject({
      code: 'MISSING_TOKEN',
    });
  });
});
