// 5. JWKS: GET /.well-known/jwks.json with and without If-None-Match, against /health/live, runs
// alternating (ABBA…).
import { interleaved } from '../lib/interleave.mjs';

export default {
  name: 'jwks',
  title: 'JWKS document',
  async run({ startTessera, ratio, settings }) {
    const tessera = await startTessera();
    try {
      const url = `${tessera.url}/.well-known/jwks.json`;
      const etag = (await fetch(url)).headers.get('etag');
      const [live, full, cached] = await interleaved(settings, [
        { label: 'GET /health/live (baseline)', job: () => ({ url: `${tessera.url}/health/live` }) },
        { label: 'GET /.well-known/jwks.json', job: () => ({ url }) },
        {
          label: 'GET /.well-known/jwks.json + If-None-Match (304)',
          job: () => ({ url, headers: { 'if-none-match': etag }, expectStatus: 304 }),
        },
      ]);
      return {
        rows: [live, { ...full, ratio: ratio(full, live) }, { ...cached, ratio: ratio(cached, live) }],
        goals: [],
      };
    } finally {
      await tessera.stop();
    }
  },
};
