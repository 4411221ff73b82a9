// 3. Issuance: client_credentials and POST /v1/tenants/:id/tokens, RS256 and ES256, against
// node's single-core signing rate and node-oidc-provider's client_credentials (JWT). Tessera and
// the peer run side by side, and every run of every measurement — the signing baseline included —
// alternates with the others (ABBA…): the signing rate moved from 4.0k/s to 1.5k/s between two
// runs when it was measured once per scenario, so only a baseline measured between its subject's
// runs makes the ratio mean something.
import { nodeSigningRate } from '../lib/baselines.mjs';
import { interleaved } from '../lib/interleave.mjs';
import { startOidcProvider } from '../lib/peer.mjs';
import { createTenant } from '../lib/tessera.mjs';

const FORM = 'application/x-www-form-urlencoded';

export default {
  name: 'issuance',
  title: 'Token issuance',
  async run({ startTessera, settings }) {
    const rows = [];
    const goals = [];
    const quick = settings.smoke ? { durationSec: 0.25 } : {}; // smoke: short runs, the whole smoke stays under 30 s
    const seconds = quick.durationSec ?? settings.durationSec;
    for (const alg of settings.smoke ? ['RS256'] : ['RS256', 'ES256']) {
      const [tessera, peer] = await Promise.all([startTessera({ env: { SIGNING_ALGORITHM: alg } }), startOidcProvider(alg)]);
      try {
        const tenant = await createTenant(tessera);
        const client = await tessera.request(
          'POST',
          `/v1/tenants/${tenant.id}/clients`,
          { name: 'bench', scopes: ['read', 'write'] },
          { 'x-api-key': tenant.apiKey },
        );
        const basic = `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`;
        const tokens = (refreshToken) => ({
          url: `${tessera.url}/v1/tenants/${tenant.id}/tokens`,
          method: 'POST',
          headers: { 'x-api-key': tenant.apiKey, 'content-type': 'application/json' },
          body: JSON.stringify({ sub: 'bench-user', scope: 'read', ...(refreshToken ? {} : { refreshToken: false }) }),
          expectStatus: 201,
        });
        const [signing, cc, rest, withRefresh, theirs] = await interleaved(
          settings,
          [
            // Same length as a load run, in a child process, while Tessera and the peer sit idle.
            { label: `node:crypto ${alg} sign, one core (baseline)`, once: async () => ({ rps: await nodeSigningRate(alg, seconds) }) },
            {
              label: `Tessera ${alg} client_credentials`,
              job: () => ({
                url: `${tessera.url}/oauth/token`,
                method: 'POST',
                headers: { authorization: basic, 'content-type': FORM },
                body: 'grant_type=client_credentials&scope=read',
              }),
            },
            { label: `Tessera ${alg} POST /v1/tenants/:id/tokens (no refresh token)`, job: () => tokens(false) },
            { label: `Tessera ${alg} POST /v1/tenants/:id/tokens (with refresh token)`, job: () => tokens(true) },
            {
              label: `node-oidc-provider ${alg} client_credentials (JWT)`,
              job: () => ({
                url: `${peer.url}/token`,
                method: 'POST',
                headers: { authorization: peer.basic, 'content-type': FORM },
                body: 'grant_type=client_credentials&scope=read',
              }),
            },
          ],
          quick,
        );
        const vsSigning = (row) => row.rps / signing.rps;
        rows.push(
          signing,
          { ...cc, ratio: vsSigning(cc) },
          { ...rest, ratio: vsSigning(rest) },
          { ...withRefresh, ratio: vsSigning(withRefresh) },
          { ...theirs, ratio: vsSigning(theirs) },
        );
        goals.push(
          {
            text: `${alg} client_credentials / node single-core signing`,
            value: vsSigning(cc),
            goal: '≥ 0.75',
            met: vsSigning(cc) >= 0.75,
          },
          { text: `${alg} POST tokens / node single-core signing`, value: vsSigning(rest), goal: '≥ 0.75', met: vsSigning(rest) >= 0.75 },
          {
            text: `${alg} client_credentials / node-oidc-provider`,
            value: cc.rps / theirs.rps,
            goal: '≥ 1.4',
            met: cc.rps / theirs.rps >= 1.4,
          },
        );
      } finally {
        await Promise.all([tessera.stop(), peer.stop()]);
      }
    }
    return {
      rows,
      goals,
      notes: [
        'Every measurement, node:crypto signing baseline included, alternates run by run with the others (ABBA…); the signing baseline runs as long as one load run, in its own process. ratio column: req/s / node single-core signing.',
      ],
    };
  },
};
