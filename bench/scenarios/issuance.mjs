// 3. Issuance: client_credentials and POST /v1/tenants/:id/tokens, RS256 and ES256, against
// node's single-core signing rate and node-oidc-provider's client_credentials (JWT), same run.
import { nodeSigningRate } from '../lib/baselines.mjs';
import { startOidcProvider } from '../lib/peer.mjs';
import { createTenant } from '../lib/tessera.mjs';

const FORM = 'application/x-www-form-urlencoded';

export default {
  name: 'issuance',
  title: 'Token issuance',
  async run({ startTessera, measure, settings }) {
    const rows = [];
    const goals = [];
    for (const alg of settings.smoke ? ['RS256'] : ['RS256', 'ES256']) {
      const signing = await nodeSigningRate(alg, settings.smoke ? 0.5 : 5);
      rows.push({ label: `node:crypto ${alg} sign, one core (baseline)`, rps: signing });

      const tessera = await startTessera({ env: { SIGNING_ALGORITHM: alg } });
      let cc;
      let rest;
      try {
        const tenant = await createTenant(tessera);
        const client = await tessera.request('POST', `/v1/tenants/${tenant.id}/clients`, { name: 'bench', scopes: ['read', 'write'] }, { 'x-api-key': tenant.apiKey });
        const basic = `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`;
        cc = await measure(`Tessera ${alg} client_credentials`, {
          url: `${tessera.url}/oauth/token`,
          method: 'POST',
          headers: { authorization: basic, 'content-type': FORM },
          body: 'grant_type=client_credentials&scope=read',
        });
        rest = await measure(`Tessera ${alg} POST /v1/tenants/:id/tokens (no refresh token)`, {
          url: `${tessera.url}/v1/tenants/${tenant.id}/tokens`,
          method: 'POST',
          headers: { 'x-api-key': tenant.apiKey, 'content-type': 'application/json' },
          body: JSON.stringify({ sub: 'bench-user', scope: 'read', refreshToken: false }),
          expectStatus: 201,
        });
        const withRefresh = await measure(`Tessera ${alg} POST /v1/tenants/:id/tokens (with refresh token)`, {
          url: `${tessera.url}/v1/tenants/${tenant.id}/tokens`,
          method: 'POST',
          headers: { 'x-api-key': tenant.apiKey, 'content-type': 'application/json' },
          body: JSON.stringify({ sub: 'bench-user', scope: 'read' }),
          expectStatus: 201,
        });
        rows.push({ ...cc, ratio: cc.rps / signing }, { ...rest, ratio: rest.rps / signing }, { ...withRefresh, ratio: withRefresh.rps / signing });
      } finally {
        await tessera.stop();
      }

      const peer = await startOidcProvider(alg);
      try {
        const theirs = await measure(`node-oidc-provider ${alg} client_credentials (JWT)`, {
          url: `${peer.url}/token`,
          method: 'POST',
          headers: { authorization: peer.basic, 'content-type': FORM },
          body: 'grant_type=client_credentials&scope=read',
        });
        rows.push({ ...theirs, ratio: theirs.rps / signing });
        goals.push(
          { text: `${alg} client_credentials / node single-core signing`, value: cc.rps / signing, goal: '≥ 0.75', met: cc.rps / signing >= 0.75 },
          { text: `${alg} POST tokens / node single-core signing`, value: rest.rps / signing, goal: '≥ 0.75', met: rest.rps / signing >= 0.75 },
          { text: `${alg} client_credentials / node-oidc-provider`, value: cc.rps / theirs.rps, goal: '≥ 1.4', met: cc.rps / theirs.rps >= 1.4 },
        );
      } finally {
        await peer.stop();
      }
    }
    return { rows, goals };
  },
};
