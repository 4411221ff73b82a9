// A load client in its own process, as a real one would be: issuance, refresh and verification
// through the load balancer, bounded in count and time. Used by test/rolling-restart.e2e-spec.ts.
//
//   node test/utils/load-client.mjs '<json options>'
//
// Options: base (the load balancer's URL), tenantId, apiKey, chains (refresh chains, each used
// strictly one request at a time like one client's session), issuers (issue + verify + revoke
// loops), revokeEvery (every Nth issued token is revoked), durationMs and maxRequests (bounds),
// refreshRetryWithinMs (0 = never retry; see below), resultFile (where the full result goes).
//
// Retries: by default none at all, so every failure the service or the load balancer lets
// through is counted. A refresh whose answer is lost (connection cut, 502/503/504) may be
// retried only with the SAME token and only while Tessera's grace window
// (REFRESH_REUSE_GRACE_SECONDS) covers it: the child token is derived from the parent, so a
// retry gets the same child and the family never branches; past the window a retry would be
// reuse and end the family, so the client gives up instead.
//
// On SIGINT/SIGTERM it stops starting requests, lets the ones in flight finish, writes the
// result and prints the counts as one JSON line.
import { writeFileSync } from 'node:fs';

const options = JSON.parse(process.argv[2] ?? '{}');
const {
  base,
  tenantId,
  apiKey,
  chains = 4,
  issuers = 2,
  revokeEvery = 3,
  durationMs = 60_000,
  maxRequests = 20_000,
  refreshRetryWithinMs = 0,
  resultFile,
} = options;
if (!base || !tenantId || !apiKey) {
  process.stderr.write('load-client: base, tenantId and apiKey are required\n');
  process.exit(2);
}

const started = Date.now();
let stopping = false;
const stop = () => (stopping = true);
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setTimeout(stop, durationMs).unref();

const counts = { requests: 0, ok: 0, failed: 0, issued: 0, refreshed: 0, verified: 0, revoked: 0, refreshRetries: 0 };
const failures = [];
const revokedTokens = [];
const chainResults = [];

const canStart = () => !stopping && counts.requests < maxRequests;

/** One request; resolves { status, body } or { error } (a network error or the 10 s timeout). */
async function call(op, path, init) {
  counts.requests++;
  try {
    const res = await fetch(base + path, { ...init, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    return { status: res.status, body: text };
  } catch (error) {
    return { error: String(error?.cause?.code ?? error?.name ?? error) };
  }
}

function record(op, outcome, expected) {
  if (outcome.status === expected) {
    counts.ok++;
    return true;
  }
  counts.failed++;
  if (failures.length < 30) {
    failures.push({
      op,
      status: outcome.status ?? null,
      error: outcome.error ?? null,
      body: outcome.body?.slice(0, 200) ?? null,
      atMs: Date.now() - started,
    });
  }
  return false;
}

const json = { 'content-type': 'application/json', 'x-api-key': apiKey };
const form = { 'content-type': 'application/x-www-form-urlencoded' };

async function issue(sub, refreshToken) {
  const outcome = await call('issue', `/v1/tenants/${tenantId}/tokens`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ sub, refreshToken }),
  });
  if (!record('issue', outcome, 201)) return undefined;
  counts.issued++;
  return JSON.parse(outcome.body);
}

async function verify(accessToken) {
  const outcome = await call('verify', '/v1/auth/verify', { headers: { authorization: `Bearer ${accessToken}` } });
  if (record('verify', outcome, 200)) counts.verified++;
}

async function refresh(refreshToken) {
  const firstTry = Date.now();
  const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString();
  for (;;) {
    const outcome = await call('refresh', '/oauth/token', { method: 'POST', headers: form, body });
    const lost = outcome.error !== undefined || [502, 503, 504].includes(outcome.status);
    if (lost && refreshRetryWithinMs > 0 && Date.now() - firstTry < refreshRetryWithinMs) {
      counts.refreshRetries++;
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    if (!record('refresh', outcome, 200)) return undefined;
    counts.refreshed++;
    return JSON.parse(outcome.body);
  }
}

/** One client session: a family, refreshed strictly one request at a time; every new access token is verified. */
async function chain(i) {
  const sub = `load-chain-${i}`;
  const result = { sub, refreshes: 0, refreshToken: null, broken: false };
  chainResults.push(result);
  let current = await issue(sub, true);
  if (!current) return void (result.broken = true);
  result.refreshToken = current.refresh_token;
  while (canStart()) {
    await verify(current.access_token);
    if (!canStart()) break;
    const next = await refresh(current.refresh_token);
    // A refresh that failed leaves the chain with a token whose fate is unknown: stop it, as a real client would have to.
    if (!next) return void (result.broken = true);
    current = next;
    result.refreshes++;
    result.refreshToken = current.refresh_token;
  }
}

/** Issuance with verification; every revokeEvery-th token is revoked (RFC 7009) and remembered. */
async function issuer(i) {
  for (let n = 0; canStart(); n++) {
    const issued = await issue(`load-issuer-${i}-${n}`, false);
    if (!issued) continue;
    await verify(issued.access_token);
    if (n % revokeEvery === revokeEvery - 1 && canStart()) {
      const outcome = await call('revoke', '/oauth/revoke', {
        method: 'POST',
        headers: { ...form, 'x-api-key': apiKey },
        body: new URLSearchParams({ token: issued.access_token }).toString(),
      });
      if (record('revoke', outcome, 200)) {
        counts.revoked++;
        revokedTokens.push(issued.access_token);
      }
    }
  }
}

const workers = [...Array.from({ length: chains }, (_, i) => chain(i)), ...Array.from({ length: issuers }, (_, i) => issuer(i))];
// The caller waits for this line before it starts restarting replicas.
setTimeout(() => process.stdout.write(`${JSON.stringify({ event: 'running' })}\n`), 200);
await Promise.all(workers);

const result = { ...counts, durationMs: Date.now() - started, failures, chains: chainResults, revokedTokens };
if (resultFile) writeFileSync(resultFile, JSON.stringify(result));
const { revokedTokens: _tokens, chains: _chains, ...summary } = result;
process.stdout.write(`${JSON.stringify({ event: 'done', ...summary })}\n`);
