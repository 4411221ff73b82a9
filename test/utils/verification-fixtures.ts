import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { TestApp } from './test-app';
import { signTestJwt } from './test-jwt';

export interface TestTenant {
  id: string;
  apiKey: { 'x-api-key': string };
}

export interface TestRegisteredKey {
  kid: string;
  privateKey: KeyObject;
  /** Signs a token with this key: header `{alg, typ: 'JWT', kid}` unless overridden. */
  sign(payload: Record<string, unknown> | string, header?: Record<string, unknown>): string;
}

export async function createTenant(t: TestApp, name: string, body: object = {}): Promise<TestTenant> {
  const admin = { 'x-api-key': t.adminKey };
  const res = await t.http
    .post('/v1/tenants')
    .set(admin)
    .send({ name, ...body })
    .expect(201);
  const key = await t.http.post(`/v1/tenants/${res.body.id}/api-keys`).set(admin).send({}).expect(201);
  return { id: res.body.id as string, apiKey: { 'x-api-key': key.body.key as string } };
}

/** Registers a fresh key pair with the tenant (RS256 by default, as in the Ampersand flow). */
export async function registerKey(
  t: TestApp,
  tenant: TestTenant,
  algorithm: 'RS256' | 'ES256' | 'EdDSA' | 'PS256' = 'RS256',
): Promise<TestRegisteredKey> {
  const pair =
    algorithm === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : algorithm === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const res = await t.http
    .post(`/v1/tenants/${tenant.id}/jwt-keys`)
    .set(tenant.apiKey)
    .send({ label: `${algorithm} key`, algorithm, publicKeyPem })
    .expect(201);
  const kid = res.body.kid as string;
  return {
    kid,
    privateKey: pair.privateKey,
    sign: (payload, header = {}) => signTestJwt({ alg: algorithm, typ: 'JWT', kid, ...header }, payload, pair.privateKey, algorithm),
  };
}

/** The Ampersand token's claims: sub, groupRef, consumerRef, iat, exp = iat + 600. */
export function ampersandClaims(over: Record<string, unknown> = {}, now = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  const claims: Record<string, unknown> = {
    sub: 'user-7',
    groupRef: 'group-1',
    consumerRef: 'consumer-9',
    iat: now,
    exp: now + 600,
    ...over,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return claims;
}

/** An access token (and refresh token) issued by Tessera for the tenant. */
export async function issueToken(
  t: TestApp,
  tenant: TestTenant,
  body: Record<string, unknown> = {},
): Promise<{ access_token: string; refresh_token?: string }> {
  const res = await t.http
    .post(`/v1/tenants/${tenant.id}/tokens`)
    .set(tenant.apiKey)
    .send({ sub: 'user-1', scope: 'orders:read', ...body })
    .expect(201);
  return res.body;
}
