import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { SigningService } from '../src/keys/signing.service';
import { freePort } from './utils/process';
import { startTestApp, TestApp } from './utils/test-app';

/**
 * The property rotation exists for: a verifier that honours the JWKS cache lifetime
 * (jose's createRemoteJWKSet, refetching no more often than max-age) verifies every token
 * Tessera issues, while the keys rotate every few seconds in real time.
 */
describe('signing-key rotation, zero-miss property (e2e)', () => {
  let t: TestApp;
  let url: string;
  const MAX_AGE_SECONDS = 2;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    t = await startTestApp({
      env: { PUBLIC_URL: url, JWKS_MAX_AGE: String(MAX_AGE_SECONDS), KEY_CHECK_INTERVAL: '1', KEY_ROTATION_INTERVAL: '5' },
    });
    await t.tessera.app.listen({ port, host: '127.0.0.1' });
  });
  afterAll(() => t.close());

  it('verifies every freshly issued token while keys rotate many times', async () => {
    const jwks = createRemoteJWKSet(new URL(`${url}/.well-known/jwks.json`), {
      cacheMaxAge: MAX_AGE_SECONDS * 1000,
      cooldownDuration: MAX_AGE_SECONDS * 1000,
    });
    const signer = t.tessera.app.get(SigningService);
    const kids = new Set<string>();
    const failures: string[] = [];
    let verified = 0;
    // Bounded by time (13 s) and by count.
    const end = Date.now() + 13_000;
    for (let i = 0; i < 5000 && Date.now() < end; i++) {
      const token = await signer.sign({ iss: url, sub: `user-${i}`, aud: url, exp: Math.floor(Date.now() / 1000) + 60 });
      kids.add(decodeProtectedHeader(token).kid!);
      try {
        await jwtVerify(token, jwks, { issuer: url, audience: url, typ: 'at+jwt' });
        verified++;
      } catch (error) {
        failures.push(`${decodeProtectedHeader(token).kid}: ${(error as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(failures).toEqual([]);
    expect(verified).toBeGreaterThan(100);
    // Rotation really happened, several times.
    expect(kids.size).toBeGreaterThanOrEqual(3);
  });
});
