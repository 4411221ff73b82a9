import { Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { InspectedJwt, inspectJwt, TokenError } from '@tessera/nest-guard';
import { KeysService } from '../keys/keys.service';
import { DenylistService } from '../revocation/denylist.service';
import { MAX_JTI_LENGTH } from '../revocation/revocation.service';
import { isJwsAlgorithm } from '../common/crypto/jws-algorithms';
import { assertionAudiences, audiencesOf, namesAssertionAudience } from './assertion-audience';
import { verifyJwsSignature } from './jws-signature';
import { RegisteredKeyResolver, ResolvedRegisteredKey } from './registered-key-resolver';

export interface VerifiedToken {
  /** Tessera's own access token, or a token signed by a tenant-registered key. */
  kind: 'access' | 'registered';
  /** The key's tenant (own tokens: their tenant_id claim). Never taken from an unverified claim. */
  tenantId: string;
  /** The payload; for registered tokens `tenant_id` is set to the key's tenant. */
  claims: Record<string, unknown>;
  kid: string;
}

/** DESIGN.md: the jwt-bearer assertion lifetime is at most 600 s, whatever the tenant allows for bearer tokens. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 600;

/** bearer: verify(); assertion: verifyAssertion(); revocation: verify() without the audience rule. */
type Purpose = 'bearer' | 'assertion' | 'revocation';

export interface VerifyOptions {
  /**
   * Skip the audience rule. Only for revocation (RFC 7009): a genuine token of the caller's
   * tenant can be revoked whatever audience it was issued for.
   */
  ignoreAudience?: boolean;
}

/**
 * Verifies tokens Tessera accepts: its own RFC 9068 access tokens (keys held in memory, no
 * database round trip) and tokens signed by a tenant-registered key (DESIGN.md "Tokens
 * signed by a tenant's registered key"). Every refusal is a TokenError whose code the
 * callers map to their answer (401 JSON, `{"active": false}`, invalid_grant).
 */
@Injectable()
export class TokenVerifierService {
  private readonly issuer: string;
  /** What an assertion's aud must name, and what a bearer token's aud must never name (assertion-audience.ts). */
  private readonly assertionAudiences: string[];

  constructor(
    private readonly keys: KeysService,
    private readonly registeredKeys: RegisteredKeyResolver,
    private readonly denylist: DenylistService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {
    this.issuer = config.publicUrl;
    this.assertionAudiences = assertionAudiences({
      tokenEndpoint: `${config.publicUrl}/oauth/token`,
      issuer: config.publicUrl,
      verifyAudiences: config.verifyAudiences,
    });
  }

  /** Full verification for a bearer token (forward-auth, introspection, revocation). */
  async verify(token: string, options: VerifyOptions = {}): Promise<VerifiedToken> {
    const jwt = inspectJwt(token);
    const kid = jwt.header.kid as string;
    const own = this.keys.publishedKey(kid);
    const checkAudience = options.ignoreAudience !== true;
    const verified = own
      ? this.verifyOwn(jwt, kid, own.alg, own.keyObject, checkAudience)
      : this.verifyRegistered(jwt, await this.registeredKey(kid), checkAudience ? 'bearer' : 'revocation');
    this.assertNotRevoked(verified);
    return verified;
  }

  /**
   * RFC 7523 assertion for the jwt-bearer grant: a registered key only, `jti` required (its
   * single use is the grant's job), `aud` naming an assertion audience (the token endpoint; the
   * issuer only where it is not a verify audience), lifetime at most 600 s and within the
   * tenant's limit, and not typed as an access token.
   */
  async verifyAssertion(token: string): Promise<VerifiedToken> {
    const jwt = inspectJwt(token);
    const kid = jwt.header.kid as string;
    if (this.keys.publishedKey(kid)) {
      throw new TokenError('INVALID_TOKEN_TYPE', 'A Tessera access token is not an assertion: sign one with a registered key');
    }
    const verified = this.verifyRegistered(jwt, await this.registeredKey(kid), 'assertion');
    this.assertNotRevoked(verified);
    return verified;
  }

  private async registeredKey(kid: string): Promise<ResolvedRegisteredKey> {
    const key = await this.registeredKeys.resolve(kid);
    if (!key) throw new TokenError('UNKNOWN_KEY');
    return key;
  }

  private verifyOwn(jwt: InspectedJwt, kid: string, alg: string, keyObject: KeyObject, checkAudience: boolean): VerifiedToken {
    const { header, payload } = jwt;
    // Algorithms are pinned per key: the header may not choose another (RFC 8725 §3.1).
    if (header.alg !== alg || !isJwsAlgorithm(alg)) throw new TokenError('ALGORITHM_NOT_ALLOWED');
    verifyJwsSignature(alg, keyObject, jwt.signingInput, jwt.signature);
    // RFC 9068 §2.1 / §4: access tokens are typed at+jwt, which also keeps other JWTs we sign apart.
    if (!isTyp(header.typ, ['at+jwt'])) throw new TokenError('INVALID_TOKEN_TYPE', 'Token must be typed at+jwt');
    if (payload.iss !== this.issuer) throw new TokenError('INVALID_ISSUER');
    requireClaims(payload, ['sub', 'exp', 'iat']);
    if (typeof payload.tenant_id !== 'string' || payload.tenant_id.length === 0) {
      throw new TokenError('MALFORMED_TOKEN', 'Token has no tenant_id claim');
    }
    this.checkTimes(payload);
    if (checkAudience && !this.audienceAccepted(payload.aud, true)) throw new TokenError('INVALID_AUDIENCE');
    return { kind: 'access', tenantId: payload.tenant_id, claims: payload, kid };
  }

  private verifyRegistered(jwt: InspectedJwt, key: ResolvedRegisteredKey, purpose: Purpose): VerifiedToken {
    const { header, payload } = jwt;
    if (header.alg !== key.algorithm || !isJwsAlgorithm(key.algorithm)) throw new TokenError('ALGORITHM_NOT_ALLOWED');
    verifyJwsSignature(key.algorithm, key.keyObject, jwt.signingInput, jwt.signature);

    // typ absent, JWT or at+jwt; an assertion may not claim to be an access token.
    const accepted = purpose === 'assertion' ? ['jwt'] : ['jwt', 'at+jwt'];
    if (header.typ !== undefined && !isTyp(header.typ, accepted)) {
      throw new TokenError('INVALID_TOKEN_TYPE', purpose === 'assertion' ? 'Assertion type must be absent or JWT' : 'Token type must be absent, JWT or at+jwt');
    }
    requireClaims(payload, purpose === 'assertion' ? ['sub', 'iat', 'exp', 'jti'] : ['sub', 'iat', 'exp']);
    // A jti names a denylist entry or a replay-table row in every replica: bounded (issue 17).
    if (typeof payload.jti === 'string' && payload.jti.length > MAX_JTI_LENGTH) {
      throw new TokenError('MALFORMED_TOKEN', `Token jti must be at most ${MAX_JTI_LENGTH} characters`);
    }
    // The tenant is always the key's: a claim may confirm it, never choose it.
    if (payload.iss !== undefined && payload.iss !== key.tenantId) throw new TokenError('INVALID_ISSUER', 'Token iss must be the tenant id');
    if (payload.tenant_id !== undefined && payload.tenant_id !== key.tenantId) {
      throw new TokenError('INVALID_ISSUER', "Token tenant_id does not match the key's tenant");
    }
    const maxLifetime = purpose === 'assertion' ? Math.min(key.registeredTokenMaxTtl, MAX_ASSERTION_LIFETIME_SECONDS) : key.registeredTokenMaxTtl;
    if ((payload.exp as number) - (payload.iat as number) > maxLifetime) {
      throw new TokenError('MALFORMED_TOKEN', `Token lifetime (exp - iat) is over the ${maxLifetime} s allowed`);
    }
    this.checkTimes(payload);
    if (purpose === 'bearer') {
      // aud is optional on these tokens; when present it must name us. An aud naming an assertion
      // audience marks a jwt-bearer assertion, which is exchanged, never used as a bearer.
      if (payload.aud !== undefined && !this.audienceAccepted(payload.aud, false)) throw new TokenError('INVALID_AUDIENCE');
      if (namesAssertionAudience(payload.aud, this.assertionAudiences)) {
        throw new TokenError('INVALID_AUDIENCE', 'Token audience is an assertion audience (the token endpoint): exchange it at /oauth/token, it is not a bearer token');
      }
    } else if (purpose === 'assertion' && !namesAssertionAudience(payload.aud, this.assertionAudiences)) {
      throw new TokenError('INVALID_AUDIENCE', `Assertion aud must name ${this.assertionAudiences.join(' or ')}`);
    }
    return { kind: 'registered', tenantId: key.tenantId, claims: { ...payload, tenant_id: key.tenantId }, kid: key.kid };
  }

  /** exp, nbf and iat against the injected clock, with CLOCK_TOLERANCE_SECONDS either way. */
  private checkTimes(payload: Record<string, unknown>): void {
    const now = this.clock.now().getTime() / 1000;
    const tolerance = this.config.clockToleranceSeconds;
    if ((payload.exp as number) + tolerance <= now) throw new TokenError('TOKEN_EXPIRED');
    if (typeof payload.nbf === 'number' && payload.nbf - tolerance > now) throw new TokenError('TOKEN_NOT_YET_VALID');
    if (typeof payload.iat === 'number' && payload.iat - tolerance > now) throw new TokenError('TOKEN_NOT_YET_VALID', 'Token was issued in the future');
  }

  private audienceAccepted(aud: unknown, required: boolean): boolean {
    const values = audiencesOf(aud);
    if (values.length === 0) return !required;
    return values.some((a) => this.config.verifyAudiences.includes(a));
  }

  private assertNotRevoked(token: VerifiedToken): void {
    const { jti, sub, iat } = token.claims;
    const revoked = this.denylist.isRevoked({
      tenantId: token.tenantId,
      jti: typeof jti === 'string' ? jti : undefined,
      sub: typeof sub === 'string' ? sub : undefined,
      iat: typeof iat === 'number' ? iat : undefined,
    });
    if (revoked) throw new TokenError('TOKEN_REVOKED');
  }
}

/** RFC 7515 §4.1.9: typ is a media type, compared case-insensitively, `application/` optional. */
function isTyp(typ: unknown, accepted: string[]): boolean {
  if (typeof typ !== 'string') return false;
  const normalised = typ.toLowerCase().replace(/^application\//, '');
  return accepted.includes(normalised);
}

function requireClaims(payload: Record<string, unknown>, names: string[]): void {
  for (const name of names) {
    const value = payload[name];
    // inspectJwt has already checked the types of the registered claims that are present.
    if (value === undefined || value === '') throw new TokenError('MALFORMED_TOKEN', `Token has no ${name} claim`);
  }
}
