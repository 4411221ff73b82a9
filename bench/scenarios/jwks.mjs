// 5. JWKS: GET /.well-known/jwks.json with and without If-None-Match, against /health/live.
export default {
  name: 'jwks',
  title: 'JWKS document',
  async run({ startTessera, measure, ratio }) {
    const tessera = await startTessera();
    try {
      const url = `${tessera.url}/.well-known/jwks.json`;
      const etag = (await fetch(url)).headers.get('etag');
      const live = await measure('GET /health/live (baseline)', { url: `${tessera.url}/health/live` });
      const full = await measure('GET /.well-known/jwks.json', { url });
      const cached = await measure('GET /.well-known/jwks.json + If-None-Match (304)', { url, headers: { 'if-none-match': etag }, expectStatus: 304 });
      return {
        rows: [live, { ...full, ratio: ratio(full, live) }, { ...cached, ratio: ratio(cached, live) }],
        goals: [],
      };
    } finally {
      await tessera.stop();
    }
  },
};
