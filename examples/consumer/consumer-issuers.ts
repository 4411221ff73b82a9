import type { JwtIssuerOptions } from '@tessera/nest-guard';

/** The algorithms Tessera signs with (its own keys) and accepts for tenants' registered keys. */
const ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

/**
 * The issuers a service trusting Tessera configures (main.ts builds its guard from these; the
 * guard tests use them too). `tessera` is Tessera's PUBLIC_URL without a trailing slash.
 *
 * `forbiddenAudiences` names Tessera's token endpoint on every issuer: a jwt-bearer assertion
 * (RFC 7523) always names it and a bearer token never does (docs/adr/0014), so a tenant's
 * assertion — `aud: [PUBLIC_URL/oauth/token, PUBLIC_URL]` — is refused (INVALID_AUDIENCE) even
 * though its `aud` also holds the accepted audience. The guard derives the same default from the
 * issuer URL or the tenant JWKS URL; it is spelled out here so that a copied snippet keeps it.
 */
export function tesseraIssuer(tessera: string, audience: string | string[], tuning: Partial<JwtIssuerOptions> = {}): JwtIssuerOptions {
  return {
    issuer: tessera,
    audience,
    algorithms: ALGORITHMS,
    jwksUri: `${tessera}/.well-known/jwks.json`,
    forbiddenAudiences: [`${tessera}/oauth/token`],
    ...tuning,
  };
}

/** A tenant's registered keys: issuer = the tenant id, keys from Tessera's tenant JWKS, `typ` absent, JWT or at+jwt. */
export function tenantIssuer(
  tessera: string,
  tenantId: string,
  audience: string | string[],
  tuning: Partial<JwtIssuerOptions> = {},
): JwtIssuerOptions {
  return {
    issuer: tenantId,
    audience,
    algorithms: ALGORITHMS,
    jwksUri: `${tessera}/v1/tenants/${encodeURIComponent(tenantId)}/jwks.json`,
    requiredTyp: false,
    forbiddenAudiences: [`${tessera}/oauth/token`],
    ...tuning,
  };
}
