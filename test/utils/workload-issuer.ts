import { generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signTestJwt } from './test-jwt';

/**
 * A small external issuer on 127.0.0.1 for the secretless-client suites: it serves OpenID
 * discovery (`/.well-known/openid-configuration`) and a JWKS (`/openid/v1/jwks`, the path the
 * Kubernetes API server uses), and signs tokens shaped like a Kubernetes service-account token
 * or a GitHub Actions OIDC token with its RS256 key. The JWKS can be taken down (500) or
 * rotated to a new key, and counts its fetches.
 */
export interface WorkloadIssuer {
  /** Base URL of the HTTP server. */
  url: string;
  /** The `iss` of its tokens (the server's URL unless another was given). */
  issuer: string;
  jwksUri: string;
  kid: string;
  /** The current signing key (for tests that sign with a library of their own). */
  privateKey: KeyObject;
  jwksFetches(): number;
  discoveryFetches(): number;
  /** JWKS and discovery answer 500 while down. */
  setDown(down: boolean): void;
  /** Publishes a new key (dropping the old one) and signs with it from now on. */
  rotate(): void;
  /** Signs `claims` (iat, exp, jti and iss filled in unless given) with the current key. */
  sign(
    claims: Record<string, unknown>,
    options?: { header?: Record<string, unknown>; nowSec?: number; lifetimeSec?: number; key?: KeyObject },
  ): string;
  /** A projected service-account token: sub system:serviceaccount:<ns>:<name>, kubernetes.io claims. */
  kubernetesToken(options: {
    namespace: string;
    serviceAccount: string;
    audience: string;
    nowSec?: number;
    extra?: Record<string, unknown>;
  }): string;
  /** A GitHub Actions OIDC token: sub repo:<repository>:ref:<ref>, repository, ref, job_workflow_ref claims. */
  githubToken(options: {
    repository: string;
    ref: string;
    audience: string;
    workflow?: string;
    nowSec?: number;
    extra?: Record<string, unknown>;
  }): string;
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

function newKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

export async function startWorkloadIssuer(options: { issuer?: string } = {}): Promise<WorkloadIssuer> {
  let key = newKey();
  let down = false;
  let jwksFetches = 0;
  let discoveryFetches = 0;
  let issuer = options.issuer ?? '';
  let url = '';
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/openid/v1/jwks') {
      jwksFetches++;
      return down ? send(500, { error: 'down' }) : send(200, { keys: [key.jwk] });
    }
    if (req.url === '/.well-known/openid-configuration') {
      discoveryFetches++;
      if (down) return send(500, { error: 'down' });
      return send(200, {
        issuer,
        jwks_uri: `${url}/openid/v1/jwks`,
        id_token_signing_alg_values_supported: ['RS256'],
        subject_types_supported: ['public'],
      });
    }
    send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer ||= url;

  const sign: WorkloadIssuer['sign'] = (claims, signOptions = {}) => {
    const now = signOptions.nowSec ?? Math.floor(Date.now() / 1000);
    const payload = { iss: issuer, iat: now, nbf: now, exp: now + (signOptions.lifetimeSec ?? 600), jti: randomUUID(), ...claims };
    const header = { alg: 'RS256', kid: key.kid, typ: 'JWT', ...signOptions.header };
    return signTestJwt(header, payload, signOptions.key ?? key.privateKey, String(header.alg));
  };

  return {
    url,
    issuer,
    jwksUri: `${url}/openid/v1/jwks`,
    get kid() {
      return key.kid;
    },
    get privateKey() {
      return key.privateKey;
    },
    jwksFetches: () => jwksFetches,
    discoveryFetches: () => discoveryFetches,
    setDown: (value) => {
      down = value;
    },
    rotate: () => {
      key = newKey();
    },
    sign,
    kubernetesToken: ({ namespace, serviceAccount, audience, nowSec, extra }) =>
      sign(
        {
          aud: [audience],
          sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
          'kubernetes.io': {
            namespace,
            pod: { name: `${serviceAccount}-7d9f8b6c5-x2k4q`, uid: randomUUID() },
            serviceaccount: { name: serviceAccount, uid: randomUUID() },
          },
          ...extra,
        },
        { nowSec, lifetimeSec: 3600 },
      ),
    githubToken: ({ repository, ref, audience, workflow = 'deploy.yml', nowSec, extra }) =>
      sign(
        {
          aud: audience,
          sub: `repo:${repository}:ref:${ref}`,
          repository,
          repository_owner: repository.split('/')[0],
          ref,
          ref_type: 'branch',
          workflow: 'Deploy',
          job_workflow_ref: `${repository}/.github/workflows/${workflow}@${ref}`,
          event_name: 'push',
          run_id: '9876543210',
          run_attempt: '1',
          ...extra,
        },
        { nowSec, lifetimeSec: 300, header: { typ: 'JWT', x5t: 'ignored' } },
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
