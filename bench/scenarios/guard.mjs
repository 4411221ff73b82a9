// 1. Guard: GET /guarded of examples/consumer against its unguarded GET /hello, on Fastify and on
// Express, with 10 000 distinct tokens (the verified-token cache cannot hit) and with one hot
// token (it hits), and against two peers with the same distinct tokens: a plain passport-jwt +
// jwks-rsa guard (bench/peers/plain-guard.ts) and a jose jwtVerify + createRemoteJWKSet guard
// (bench/peers/jose-guard.ts); all in the same run, runs alternating (ABBA…). Tokens are signed here (node:crypto RS256)
// and the keys served by a JWKS on 127.0.0.1 inside this process: no Tessera is involved.
// DPoP (issue 16): the same distinct tokens bound to a P-256 key (cnf.jkt), each request with a
// fresh ES256 proof (signed by the load worker before its run), on examples/consumer with DPOP=on,
// against the bearer path in the same interleaved runs.
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { interleaved } from '../lib/interleave.mjs';
import { rsaKey, signMany, startJwksServer, writeTokens } from '../lib/jwt.mjs';
import { startConsumer, startJoseGuard, startPlainGuard } from '../lib/service.mjs';

export default {
  name: 'guard',
  title: 'Guard: examples/consumer GET /guarded vs GET /hello, Fastify and Express, vs plain passport-jwt + jwks-rsa and vs jose',
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
      // Valid for the whole run (3 runs × 10 s × 5 measurements × 2 adapters is far below 2 h).
      const claims = (i) => ({ iss: issuer, aud: issuer, sub: `user-${i}`, scope: 'read', iat: now, exp: now + 7200, jti: randomUUID() });
      const started = Date.now();
      const distinct = writeTokens('guard-distinct', signMany(count, header, claims, key.privateKey));
      // RFC 7638 thumbprint of the client's DPoP key: the cnf.jkt of the bound tokens.
      const dpopKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const { crv, kty, x, y } = dpopKey.publicKey.export({ format: 'jwk' });
      const jkt = createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
      const dpopKeyPem = dpopKey.privateKey.export({ type: 'pkcs8', format: 'pem' });
      const bound = writeTokens(
        'guard-dpop',
        signMany(count, header, (i) => ({ ...claims(i), cnf: { jkt } }), key.privateKey),
      );
      const hot = writeTokens(
        'guard-hot',
        signMany(1, header, () => claims('hot'), key.privateKey),
      );
      process.stderr.write(`  signed ${count} distinct tokens in ${Date.now() - started} ms\n`);

      for (const adapter of adapters) {
        // VERIFIED_CACHE_SIZE=1: distinct tokens cycled over 50 connections always miss (each one
        // evicts the previous), so every request pays a full verification plus the cache insert;
        // the one hot token always hits. The default size (10 000) would hit the cycled tokens.
        const [consumer, plain, jose, dpopConsumer] = await Promise.all([
          startConsumer({ adapter, issuerUrl: issuer, verifiedCacheSize: 1 }),
          startPlainGuard({ adapter, issuerUrl: issuer }),
          startJoseGuard({ adapter, issuerUrl: issuer }),
          startConsumer({ adapter, issuerUrl: issuer, verifiedCacheSize: 1, dpop: true }),
        ]);
        try {
          // Interleaved runs (ABBA…): the machine's load drifts; alternating runs compare the routes, not the drift.
          const [hello, cold, warm, peer, joseRow, dpopRow] = await interleaved(
            settings,
            [
              { label: `${adapter}: GET /hello, unguarded (baseline)`, job: () => ({ url: `${consumer.url}/hello` }) },
              {
                label: `${adapter}: GET /guarded, ${count} distinct tokens (no cache hits)`,
                job: () => ({ url: `${consumer.url}/guarded`, tokensFile: distinct }),
              },
              {
                label: `${adapter}: GET /guarded, one hot token (verified-token cache)`,
                job: () => ({ url: `${consumer.url}/guarded`, tokensFile: hot }),
              },
              {
                label: `${adapter}: plain passport-jwt + jwks-rsa GET /guarded, ${count} distinct tokens`,
                job: () => ({ url: `${plain.url}/guarded`, tokensFile: distinct }),
              },
              {
                label: `${adapter}: jose jwtVerify + createRemoteJWKSet GET /guarded, ${count} distinct tokens`,
                job: () => ({ url: `${jose.url}/guarded`, tokensFile: distinct }),
              },
              {
                label: `${adapter}: GET /guarded, DPoP: ${count} distinct bound tokens, a fresh proof per request`,
                job: () => ({ url: `${dpopConsumer.url}/guarded`, tokensFile: bound, dpopKeyPem }),
              },
            ],
            quick,
          );
          rows.push(
            hello,
            { ...cold, ratio: ratio(cold, hello) },
            { ...warm, ratio: ratio(warm, hello) },
            { ...peer, ratio: ratio(peer, hello) },
            { ...joseRow, ratio: ratio(joseRow, hello) },
            { ...dpopRow, ratio: ratio(dpopRow, hello) },
          );
          const r = {
            cold: ratio(cold, hello),
            warm: ratio(warm, hello),
            peer: ratio(cold, peer),
            jose: ratio(cold, joseRow),
            dpop: ratio(dpopRow, cold),
          };
          const name = adapter === 'fastify' ? 'Fastify' : 'Express';
          // The goals are Fastify's; Express's figures are reported beside them (met: undefined, no goal).
          const fastify = adapter === 'fastify';
          // `headline`: the row of run.mjs's summary table of issue 13's ratios (Fastify and Express side by side).
          const goal = (headline, text, value, limit) => ({
            headline,
            adapter,
            limit,
            text: `${name}: ${text}`,
            value,
            goal: fastify ? `≥ ${limit}` : `none; Fastify's ≥ ${limit}`,
            met: fastify ? value >= limit : undefined,
          });
          goals.push(
            goal(`guarded route, ${count} distinct RS256 tokens / unguarded hello`, 'guarded (distinct tokens) / hello', r.cold, 0.45),
            goal('one hot token (verified-token cache) / hello', 'guarded (hot token) / hello', r.warm, 0.85),
            goal(
              'ours / plain passport-jwt + jwks-rsa (distinct tokens)',
              'our guard / plain passport-jwt + jwks-rsa (distinct tokens)',
              r.peer,
              3,
            ),
            {
              headline: 'ours / jose jwtVerify + createRemoteJWKSet (distinct tokens)',
              adapter,
              text: `${name}: our guard / jose guard (distinct tokens)`,
              value: r.jose,
              goal: 'none; second peer',
              met: undefined,
            },
            // Issue 16: two signature checks (RS256 token + ES256 proof) instead of one.
            goal(
              'DPoP (bound token + fresh proof) / bearer (distinct tokens)',
              'DPoP guarded / bearer guarded (distinct tokens)',
              r.dpop,
              0.5,
            ),
          );
        } finally {
          await Promise.all([consumer.stop(), plain.stop(), jose.stop(), dpopConsumer.stop()]);
        }
      }
      notes.push(
        `Tokens: RS256 (RSA-2048), signed in the bench process, ${count} distinct (distinct jti and sub) cycled across connections; JWKS served on 127.0.0.1 by the bench process (${jwks.fetches} fetch(es) in the whole scenario).`,
        'DPoP: examples/consumer with DPOP=on (DpopSenderConstraint, in-memory jti store); the bound tokens are the same RS256 tokens plus cnf.jkt of a P-256 key; every request carries a proof (ES256, fresh jti, ath of its token) that the load worker signed before the run.',
        'examples/consumer runs with VERIFIED_CACHE_SIZE=1 (misses for cycled tokens, hits for the hot one); the peers are bench/peers/plain-guard.ts (PassportStrategy + passportJwtSecret({cache, rateLimit}) + AuthGuard("jwt")) and bench/peers/jose-guard.ts (jwtVerify + createRemoteJWKSet in a CanActivate; issuer, audience, RS256, typ at+jwt, exp, scope read).',
      );
      return { rows, goals, notes };
    } finally {
      await jwks.close();
    }
  },
};
