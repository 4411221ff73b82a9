import { DpopSenderConstraint, tesseraIntrospection } from '@tessera/nest-guard';
import type { JwtIssuerOptions, RevocationCheck } from '@tessera/nest-guard';
import { tenantIssuer, tesseraIssuer } from './consumer-issuers';
import { createConsumerApp } from './create-consumer-app';

/**
 * Runs the example consumer against a Tessera instance (see README.md here):
 *   TESSERA_URL=http://localhost:3000 PORT=4000 node -r ./examples/consumer/swc-register.cjs examples/consumer/main.ts
 *
 * TESSERA_URL is Tessera's PUBLIC_URL (its `iss`); the JWKS is $TESSERA_URL/.well-known/jwks.json.
 * AUDIENCE defaults to TESSERA_URL (Tessera's DEFAULT_AUDIENCE); ADAPTER=express switches adapters;
 * HOST defaults to 0.0.0.0. GUARD_MODE=passport authenticates `@Auth()` routes through the `tessera` passport
 * strategy (@tessera/nest-guard/passport) instead of the core directly (the default, `fast`).
 * TENANT_IDS (comma-separated) also accepts tokens signed by those tenants' registered keys:
 * issuer = the tenant id, keys from $TESSERA_URL/v1/tenants/<id>/jwks.json, typ absent, JWT or at+jwt.
 * Every issuer refuses tokens whose aud names $TESSERA_URL/oauth/token (jwt-bearer assertions,
 * docs/adr/0014): forbiddenAudiences, see consumer-issuers.ts.
 * Optional guard tuning: JWKS_CACHE_MAX_AGE_MS, JWKS_MAX_STALE_MS and JWKS_REQUESTS_PER_MINUTE (every issuer),
 * TENANT_JWKS_CACHE_MAX_AGE_MS (tenants' JWKS; default JWKS_CACHE_MAX_AGE_MS), VERIFIED_CACHE_SIZE,
 * VERIFIED_CACHE_TTL_MS.
 * Revocation (optional): INTROSPECTION_API_KEY (a tenant API key) or INTROSPECTION_CLIENT_ID +
 * INTROSPECTION_CLIENT_SECRET (a client of that tenant) makes every issuer ask Tessera's
 * POST $TESSERA_URL/oauth/introspect (INTROSPECTION_URL) whether a verified token is still active;
 * INTROSPECTION_CACHE_TTL_MS (5000), INTROSPECTION_TIMEOUT_MS (2000), INTROSPECTION_ON_ERROR (deny|allow).
 * DPoP (RFC 9449, optional): DPOP=on accepts `Authorization: DPoP <token>` with a proof and refuses
 * bound tokens sent as Bearer; DPOP=required refuses unbound tokens too; DPOP_ORIGIN is the origin
 * clients address this service at (behind a proxy; default: the request's protocol and Host).
 */
async function main(): Promise<void> {
  const env = process.env;
  const tessera = (env.TESSERA_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
  const audience = env.AUDIENCE ?? tessera;
  const revocation = introspectionFromEnv(tessera);
  const tuning: Partial<JwtIssuerOptions> = {
    jwksCacheMaxAgeMs: optionalInteger('JWKS_CACHE_MAX_AGE_MS'),
    jwksRequestsPerMinute: optionalInteger('JWKS_REQUESTS_PER_MINUTE'),
    jwksMaxStaleMs: optionalInteger('JWKS_MAX_STALE_MS'),
    ...(revocation ? { revocation } : {}),
  };
  const tenantIssuers: JwtIssuerOptions[] = (env.TENANT_IDS ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id.length > 0)
    .map((tenantId) =>
      tenantIssuer(tessera, tenantId, audience, {
        ...tuning,
        jwksCacheMaxAgeMs: optionalInteger('TENANT_JWKS_CACHE_MAX_AGE_MS') ?? tuning.jwksCacheMaxAgeMs,
      }),
    );

  const app = await createConsumerApp({
    adapter: env.ADAPTER === 'express' ? 'express' : 'fastify',
    mode: env.GUARD_MODE === 'passport' ? 'passport' : 'fast',
    logger: ['warn', 'error'],
    verifiedCacheSize: optionalInteger('VERIFIED_CACHE_SIZE'),
    verifiedCacheTtlMs: optionalInteger('VERIFIED_CACHE_TTL_MS'),
    ...(env.DPOP === 'on' || env.DPOP === 'required'
      ? { senderConstraint: new DpopSenderConstraint({ required: env.DPOP === 'required', origin: env.DPOP_ORIGIN || undefined }) }
      : {}),
    issuers: [tesseraIssuer(tessera, audience, tuning), ...tenantIssuers],
  });
  app.enableShutdownHooks();
  const host = env.HOST ?? '0.0.0.0';
  const port = Number(env.PORT ?? 4000);
  await app.listen(port, host);
  console.log(
    `Consumer listening on http://${host}:${port} (${env.ADAPTER === 'express' ? 'express' : 'fastify'}, ${env.GUARD_MODE === 'passport' ? 'passport' : 'fast'} guard), trusting ${tessera}${revocation ? ', with introspection' : ''}`,
  );
}

/** Tessera's introspection as the revocation check, when credentials are configured. */
function introspectionFromEnv(tessera: string): RevocationCheck | undefined {
  const env = process.env;
  const url = env.INTROSPECTION_URL || `${tessera}/oauth/introspect`;
  const onError = env.INTROSPECTION_ON_ERROR || 'deny';
  if (onError !== 'deny' && onError !== 'allow') throw new Error(`INTROSPECTION_ON_ERROR must be deny or allow (got "${onError}")`);
  const options = {
    cacheTtlMs: optionalInteger('INTROSPECTION_CACHE_TTL_MS'),
    timeoutMs: optionalInteger('INTROSPECTION_TIMEOUT_MS'),
    onError,
  } as const;
  if (env.INTROSPECTION_API_KEY) return tesseraIntrospection({ url, apiKey: env.INTROSPECTION_API_KEY }, options);
  if (env.INTROSPECTION_CLIENT_ID || env.INTROSPECTION_CLIENT_SECRET) {
    return tesseraIntrospection(
      { url, clientId: env.INTROSPECTION_CLIENT_ID ?? '', clientSecret: env.INTROSPECTION_CLIENT_SECRET ?? '' },
      options,
    );
  }
  return undefined;
}

/** An integer from the environment, or undefined when unset (the guard checks the range). */
function optionalInteger(name: string): number | undefined {
  const value = process.env[name];
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`${name} must be a whole number (got "${value}")`);
  return Number(value);
}

main().catch((error: unknown) => {
  console.error(`Consumer failed to start: ${(error as Error).message}`);
  process.exit(1);
});
