// 2. Forward-auth: GET /v1/auth/verify against GET /health/live on the same Tessera, with
// distinct tokens: Tessera's own access tokens (POST /v1/tenants/:id/tokens) and tokens a tenant
// backend signs with a registered key (docs/design.md "Tokens signed by a tenant's registered key").
import { randomUUID } from 'node:crypto';
import { interleaved } from '../lib/interleave.mjs';
import { pool, rsaKey, signMany, writeTokens } from '../lib/jwt.mjs';
import { createTenant } from '../lib/tessera.mjs';

export default {
  name: 'forward-auth',
  title: 'Forward-auth: GET /v1/auth/verify vs GET /health/live, distinct tokens',
  async run({ startTessera, ratio, settings }) {
    const quick = settings.smoke ? { durationSec: 0.25 } : {}; // smoke: short runs, the whole smoke stays under 30 s
    const ownCount = settings.smoke ? 50 : 2000;
    const registeredCount = settings.smoke ? 200 : 10_000;
    const tessera = await startTessera();
    try {
      const tenant = await createTenant(tessera);
      const asTenant = { 'x-api-key': tenant.apiKey };

      let started = Date.now();
      const own = await pool(ownCount, 20, async (i) => {
        const issued = await tessera.request(
          'POST',
          `/v1/tenants/${tenant.id}/tokens`,
          { sub: `fa-user-${i}`, scope: 'read', refreshToken: false },
          asTenant,
        );
        return issued.access_token;
      });
      const ownFile = writeTokens('forward-auth-own', own);
      process.stderr.write(`  issued ${ownCount} access tokens through Tessera in ${Date.now() - started} ms (20 in flight)\n`);

      const key = rsaKey();
      const registered = await tessera.request(
        'POST',
        `/v1/tenants/${tenant.id}/jwt-keys`,
        { label: 'bench', algorithm: 'RS256', publicKeyPem: key.publicKeyPem },
        asTenant,
      );

      // Signed now, measured within the next minutes: exp − iat may not exceed the tenant's registeredTokenMaxTtl (600 s).
      started = Date.now();
      const now = Math.floor(Date.now() / 1000);
      const header = { alg: 'RS256', typ: 'JWT', kid: registered.kid };
      const regTokens = signMany(
        registeredCount,
        header,
        (i) => ({ sub: `fa-backend-user-${i}`, iat: now, exp: now + 600, jti: randomUUID() }),
        key.privateKey,
      );
      const regFile = writeTokens('forward-auth-registered', regTokens);
      process.stderr.write(`  signed ${registeredCount} tokens with the registered key in ${Date.now() - started} ms\n`);
      if (settings.runs * 3 * (quick.durationSec ?? settings.durationSec) > 480)
        throw new Error('runs × duration too long for 600-second registered-key tokens');

      // Interleaved runs (ABBA…): the machine's load drifts; alternating runs compare the routes, not the drift.
      const [live, verifyOwn, verifyRegistered] = await interleaved(
        settings,
        [
          { label: 'GET /health/live (baseline)', job: () => ({ url: `${tessera.url}/health/live` }) },
          {
            label: `GET /v1/auth/verify, ${ownCount} distinct Tessera access tokens`,
            job: () => ({ url: `${tessera.url}/v1/auth/verify`, tokensFile: ownFile }),
          },
          {
            label: `GET /v1/auth/verify, ${registeredCount} distinct tokens signed by a registered key`,
            job: () => ({ url: `${tessera.url}/v1/auth/verify`, tokensFile: regFile }),
          },
        ],
        quick,
      );

      const rOwn = ratio(verifyOwn, live);
      const rReg = ratio(verifyRegistered, live);
      return {
        rows: [live, { ...verifyOwn, ratio: rOwn }, { ...verifyRegistered, ratio: rReg }],
        goals: [
          {
            headline: 'forward-auth GET /v1/auth/verify (Tessera tokens) / GET /health/live',
            adapter: 'fastify',
            limit: 0.55,
            text: 'verify (Tessera access tokens) / live',
            value: rOwn,
            goal: '≥ 0.55',
            met: rOwn >= 0.55,
          },
          { text: 'verify (registered-key tokens) / live', value: rReg, goal: '≥ 0.55', met: rReg >= 0.55 },
        ],
        notes: [
          `Tessera tokens: RS256, issued through POST /v1/tenants/:id/tokens {sub, scope: "read", refreshToken: false}, one sub each; registered-key tokens: RS256 {typ: JWT, kid}, sub/iat/exp (600 s)/jti, signed in the bench process. No FORWARD_AUTH_RULES_FILE (no scope rules).`,
        ],
      };
    } finally {
      await tessera.stop();
    }
  },
};
