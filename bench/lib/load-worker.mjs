// One autocannon run, in its own process so the load generator never shares a core's
// event loop with the service it measures. Reads a JSON job from argv[2]; prints one JSON line.
//
// job: { url, method?, headers?, body?, connections, durationSec, amount?,
//        tokensFile?,        // one bearer token per line, cycled across requests
//        refreshFile?,       // one refresh token per line: each connection rotates its own chain
//        refreshBody? }      // 'form' | 'json' for the refresh chain
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';

const job = JSON.parse(process.argv[2]);
const lines = (file) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const tokens = job.tokensFile ? lines(job.tokensFile) : undefined;
const refresh = job.refreshFile ? lines(job.refreshFile) : undefined;
let next = 0;
let nextChain = 0;

const request = { method: job.method ?? 'GET', headers: job.headers ?? {}, body: job.body };
if (tokens) {
  request.setupRequest = (req) => {
    const token = tokens[next++ % tokens.length];
    return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } };
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

const instance = autocannon(
  {
    url: job.url,
    connections: job.connections,
    duration: job.durationSec,
    amount: job.amount,
    requests,
    timeout: 10,
  },
  (error, result) => {
    if (error) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    process.stdout.write(
      `${JSON.stringify({
        rps: result.requests.average,
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
