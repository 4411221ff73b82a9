// 1. Guard: GET /guarded of examples/consumer against its unguarded GET /hello, on Fastify and on
// Express, with 10 000 distinct tokens (the verified-token cache cannot hit) and with one hot
// token (it hits), and against a plain passport-jwt + jwks-rsa guard (bench/peers/plain-guard.ts)
// with the same distinct tokens, all in the same run. Tokens are signed here (node:crypto RS256)
// and the keys served by a JWKS on 127.0.0.1 inside this process: no Tessera is involved.
import { randomUUID } from 'node:crypto';
import { rsaKey, signMany, startJwksServer, writeTokens } from '../lib/jwt.mjs';
import { interleaved } from '../lib/interleave.mjs';
import { startConsumer, startPlainGuard } from '../lib/service.mjs';

export default {
  name: 'guard',
  title: 'Guard: examples/consumer GET /guarded vs GET /hello, Fastify and Express, vs plain passport-jwt + jwks-rsa',
  async run({ ratio, settings }) {
    const quick = settings.smoke ? { durationSec: 0.25 } : {}; // smoke: short runs, the whole smoke stays under 30 s
    const adapters = settings.smoke ? ['fastify'] : ['fastify', 'express'];
    const count = settings.smoke ? 200 : 10_000;
    const key = rsaKey();
    const jwks = await startJwksServer([key.jwk]);
    const rows = [];
    const goals = [];
    const notes = [];
    try {
      const issuer = jwks.url;
      const now = Math.floor(Date.now() / 1000);
      const header = { alg: 'RS256', kid: key.kid, typ: 'at+jwt' };
      // Valid for the whole run (3 runs × 10 s × 4 measurements × 2 adapters is far below 2 h).
      const claims = (i) => ({ iss: issuer, aud: issuer, sub: `user-${i}`, scope: 'read', iat: now, exp: now + 7200, jti: randomUUID() });
      const started = Date.now();
      const distinct = writeTokens('guard-distinct', signMany(count, header, claims, key.privateKey));
      const hot = writeTokens('guard-hot', signMany(1, header, () => claims('hot'), key.privateKey));
      process.stderr.write(`  signed ${count} distinct tokens in ${Date.now() - started} ms\n`);

      for (const adapter of adapters) {
        // VERIFIED_CACHE_SIZE=1: distinct tokens cycled over 50 connections always miss (each one
        // evicts the previous), so every request pays a full verification plus the cache insert;
        // the one hot token always hits. The default size (10 000) would hit the cycled tokens.
        const [consumer, plain] = await Promise.all([
          startConsumer({ adapter, issuerUrl: issuer, verifiedCacheSize: 1 }),
          startPlainGuard({ adapter, issuerUrl: issuer }),
        ]);
        try {
          // Interleaved runs (ABBA…): the machine's load drifts; alternating runs compare the routes, not the drift.
          const [hello, cold, warm, peer] = await interleaved(
            settings,
            [
              { label: `${adapter}: GET /hello, unguarded (baseline)`, job: () => ({ url: `${consumer.url}/hello` }) },
              { label: `${adapter}: GET /guarded, ${count} distinct tokens (no cache hits)`, job: () => ({ url: `${consumer.url}/guarded`, tokensFile: distinct }) },
              { label: `${adapter}: GET /guarded, one hot token (verified-token cache)`, job: () => ({ url: `${consumer.url}/guarded`, tokensFile: hot }) },
              { label: `${adapter}: plain passport-jwt + jwks-rsa GET /guarded, ${count} distinct tokens`, job: () => ({ url: `${plain.url}/guarded`, tokensFile: distinct }) },
            ],
            quick,
          );
          rows.push(hello, { ...cold, ratio: ratio(cold, hello) }, { ...warm, ratio: ratio(warm, hello) }, { ...peer, ratio: ratio(peer, hello) });
          const r = { cold: ratio(cold, hello), warm: ratio(warm, hello), peer: ratio(cold, peer) };
          if (adapter === 'fastify') {
            goals.push(
              { text: 'Fastify: guarded (distinct tokens) / hello', value: r.cold, goal: '≥ 0.55', met: r.cold >= 0.55 },
              { text: 'Fastify: guarded (hot token) / hello', value: r.warm, goal: '≥ 0.85', met: r.warm >= 0.85 },
              { text: 'Fastify: our guard / plain passport-jwt + jwks-rsa (distinct tokens)', value: r.peer, goal: '≥ 3', met: r.peer >= 3 },
            );
          } else {
            notes.push(`Express (no goal): distinct/hello ${r.cold.toFixed(2)}, hot/hello ${r.warm.toFixed(2)}, ours/plain ${r.peer.toFixed(2)}×`);
          }
        } finally {
          await Promise.all([consumer.stop(), plain.stop()]);
        }
      }
      notes.push(
        `Tokens: RS256 (RSA-2048), signed in the bench process, ${count} distinct (distinct jti and sub) cycled across connections; JWKS served on 127.0.0.1 by the bench process (${jwks.fetches} fetch(es) in the whole scenario).`,
        'examples/consumer runs with VERIFIED_CACHE_SIZE=1 (misses for cycled tokens, hits for the hot one); the peer is bench/peers/plain-guard.ts (PassportStrategy + passportJwtSecret({cache, rateLimit}) + AuthGuard("jwt")).',
      );
      return { rows, goals, notes };
    } finally {
      await jwks.close();
    }
  },
};
