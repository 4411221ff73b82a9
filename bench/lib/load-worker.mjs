// One autocannon run, in its own process so the load generator never shares a core's
// event loop with the service it measures. Reads a JSON job from argv[2]; prints one JSON line.
//
// job: { url, method?, headers?, body?, connections, durationSec, amount?,
//        tokensFile?,        // one bearer token per line, cycled across requests
//        tokenFormField?,    // with tokensFile: send the token as this field of a form body instead (introspection)
//        refreshFile?,       // one refresh token per line: each connection rotates its own chain
//        run?,               // index of this run in a measurement: refresh chains start at run × connections
//        refreshBody?,       // 'form' | 'json' for the refresh chain
//        dpopKeyPem?,        // with tokensFile: send `Authorization: DPoP <token>` and a fresh ES256 proof (this P-256 key) per request
//        dpopMaxRps?,        // proofs made before the run: durationSec × this (default 12 000); each is sent once
//        sampleIntMs? }      // autocannon's sample interval (default: 1000 ms, or the duration when shorter)
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const job = JSON.parse(process.argv[2]);
const lines = (file) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const tokens = job.tokensFile ? lines(job.tokensFile) : undefined;
const refresh = job.refreshFile ? lines(job.refreshFile) : undefined;
let next = 0;
// Run i of a measurement starts at chain i × connections: a rotated chain is never presented again
// (needs the caller to pass `run`, e.g. measure() → loadOnce({ ...job, run: i })).
let nextChain = (job.run ?? 0) * job.connections;

const request = { method: job.method ?? 'GET', headers: job.headers ?? {}, body: job.body };
if (tokens && job.tokenFormField) {
  request.setupRequest = (req) => {
    const token = tokens[next++ % tokens.length];
    const body = `${job.tokenFormField}=${encodeURIComponent(token)}`;
    return { ...req, body, headers: { ...req.headers, 'content-type': 'application/x-www-form-urlencoded' } };
  };
} else if (tokens) {
  request.setupRequest = (req) => {
    const token = tokens[next++ % tokens.length];
    return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } };
  };
}
if (tokens && job.dpopKeyPem) {
  // RFC 9449 proofs are single use: all of them are signed here, before autocannon starts, so the
  // run measures the service's two signature checks and not this process's signing.
  const key = createPrivateKey(job.dpopKeyPem);
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  const b64 = (value) => Buffer.from(value).toString('base64url');
  const header = b64(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk }));
  const htu = job.url.split('?')[0];
  const count = Math.ceil(job.durationSec * (job.dpopMaxRps ?? 12_000));
  const pairs = new Array(count);
  const iat = Math.floor(Date.now() / 1000);
  for (let i = 0; i < count; i++) {
    const token = tokens[i % tokens.length];
    const ath = createHash('sha256').update(token).digest('base64url');
    const input = `${header}.${b64(JSON.stringify({ htm: request.method, htu, jti: randomBytes(12).toString('base64url'), iat, ath }))}`;
    pairs[i] = [
      `DPoP ${token}`,
      `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`,
    ];
  }
  request.setupRequest = (req) => {
    // Past the last proof, a proof is sent again: the service refuses the replay (401) and the measurement fails.
    const [authorization, dpop] = pairs[next++ % count];
    return { ...req, headers: { ...req.headers, authorization, dpop } };
  };
}
if (refresh) {
  // Each connection owns one family and presents the child it got last: a real client's loop.
  request.setupRequest = (req, context) => {
    if (!context.token) context.token = refresh[nextChain++ % refresh.length];
    const body = `grant_type=refresh_token&refresh_token=${encodeURIComponent(context.token)}`;
    return { ...req, body, headers: { ...req.headers, 'content-type': 'application/x-www-form-urlencoded' } };
  };
  request.onResponse = (status, body, context) => {
    if (status === 200) context.token = JSON.parse(body).refresh_token;
  };
}

// autocannon resets a connection's context each time it loops over `requests`: a long list
// of the same request keeps a refresh chain's context for that many requests.
const requests = refresh ? Array.from({ length: 20_000 }, () => ({ ...request })) : [request];

// A run ends on a sample tick: a sub-second (smoke) run needs a shorter interval; rps is per second either way.
const sampleIntMs = job.sampleIntMs ?? Math.max(100, Math.min(1000, Math.round(job.durationSec * 1000)));

autocannon(
  {
    url: job.url,
    connections: job.connections,
    duration: job.durationSec,
    amount: job.amount,
    requests,
    timeout: 10,
    sampleInt: sampleIntMs,
  },
  (error, result) => {
    if (error) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    process.stdout.write(
      `${JSON.stringify({
        rps: (result.requests.average * 1000) / sampleIntMs,
        total: result.requests.total,
        p50: result.latency.p50,
        p99: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
        statusCodes: result.statusCodeStats,
      })}\n`,
    );
  },
);
